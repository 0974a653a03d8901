"""The web layer around every page: security headers, error pages, template helpers."""
