"""Example values the consumer tests put in the pacts: fixed, so the committed pact files never churn.

Values a provider chooses itself (ids of what a provider state made, tokens) are only
examples in a pact: the consumer's matchers accept any value of the same shape, and
the provider state supplies the real one when the interaction is replayed.
"""

USER_ID = "7d4c8a52-0f4e-4b8e-9a51-3c2b1d0e9f60"
PROJECT_ID = "0b7a5f4e-2c1d-4e3f-8a9b-6c5d4e3f2a1b"
HOLD_ID = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
# Each interaction that writes has its own generation, so its Idempotency-Key is its own.
GENERATIONS = {
    "changes": "a1000000-0000-4000-8000-000000000001",
    "conflict": "a1000000-0000-4000-8000-000000000002",
    "published": "a1000000-0000-4000-8000-000000000003",
    "hold": "b2000000-0000-4000-8000-000000000001",
    "insufficient": "b2000000-0000-4000-8000-000000000002",
    "repeat": "b2000000-0000-4000-8000-000000000003",
    "capture": "b2000000-0000-4000-8000-000000000004",
    "release": "b2000000-0000-4000-8000-000000000005",
    "ended": "b2000000-0000-4000-8000-000000000006",
}

# The site of the provider state "a project of the user published at revision 1".
SITE_ID = "5a1e0000-0000-4000-8000-000000000001"
SITE = {
    "id": SITE_ID,
    "slug": "bakery",
    "url": "https://bakery.sites.example.com/",
    "live_revision": 1,
    "status": "live",
}

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
JWT = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
BEARER_JWT = r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

# JWT-shaped examples that no service would accept.
SERVICE_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImV4YW1wbGUifQ.eyJzdWIiOiJzZXJ2aWNlOmJ1aWxkZXIifQ.c2lnbmF0dXJl"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImV4YW1wbGUifQ.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl"
API_KEY = "oak_ExampleExampleExampleExampleExampleExample1234"

# The builder's client secret in the consumer tests; provider verification configures auth with it.
BUILDER_CLIENT_SECRET = "contract-builder-client-secret"

# A real RSA public key (its private half was thrown away), so the consumer can parse it.
JWK = {
    "kty": "RSA",
    "kid": "rSifNda6fUOF3mhaLHJKJDJrVExNlQFimXQtsT4PPtE",
    "use": "sig",
    "alg": "RS256",
    "e": "AQAB",
    "n": (
        "vSf8qQWoNTAEwvSX0ZGQH_tceVPmHCWEB7ps9NLyaaKvAdCK9JQvaQreSd7Ys2FGKEd3_BYsqhlz2rT_mLOsiHtwypU48dISeSbECs6"
        "CfTJeoZWPHQKU8oKIB3cKXBSrEuWl7teAIuDzcdGoG7FnkxC2x6gr8Z9o-JphIONYmt5-9WnQDam9uOBquSG6-kVq_EZPktq40CjQ6"
        "gmlZYLvTIdhHF7FP7XHfFzJHcNcAmKtq6Y7DW-nHVMVMp23N5rKANQr7WdzXTCBAJ7xYnmgNkDRH3F9VyyBBPKskv7MtkiDgWvvcmo"
        "0UPFcdu4mtosxLbSc80HYL7U1p73iA2hwyQ"
    ),
}

# The page of the provider state "a project of the user" (projects' config/provider_states.py):
# a contract that carries file contents carries these exact bytes.
SITE_INDEX = b"<!doctype html>\n<h1>Hello</h1>\n<link rel=stylesheet href=css/site.css>\n"
