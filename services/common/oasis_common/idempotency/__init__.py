"""`Idempotency-Key` support for internal POST endpoints."""
