"""The original post, its 12 responses and the sample posts, and their loader."""
