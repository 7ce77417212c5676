"""Business rules with no web or database imports."""
