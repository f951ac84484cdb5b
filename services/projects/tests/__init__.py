"""The projects service's own test suite."""
