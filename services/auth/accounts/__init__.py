"""Accounts: users, their passwords and profile, sign-in lockout and the limits on sign-ups."""
