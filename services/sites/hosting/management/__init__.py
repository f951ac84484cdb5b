"""Management commands of the hosting app."""
