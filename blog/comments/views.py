"""Comment views (the form's submission is built in the comments issue)."""
