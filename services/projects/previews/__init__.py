"""Previews: signed, expiring links that serve a project's files in a sandbox."""
