"""API keys: personal keys a user creates, each limited to a scope the gateway enforces."""
