"""Management commands of the credits app."""
