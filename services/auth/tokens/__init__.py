"""Tokens: signing in, refresh rotation and revocation, the keyring, and the gateway's verify."""
