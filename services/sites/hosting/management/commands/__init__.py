"""The hosting app's `manage.py` commands: upkeep of the site store and of projects' copy of sites."""
