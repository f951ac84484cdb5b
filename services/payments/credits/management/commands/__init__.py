"""The credits app's commands: checking the ledger and releasing expired holds."""
