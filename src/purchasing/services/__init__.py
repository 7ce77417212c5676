"""The verbs of the application; each write is one transaction."""
