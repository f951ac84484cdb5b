"""Projects: a user's websites, their starter templates, and zip export and import."""
