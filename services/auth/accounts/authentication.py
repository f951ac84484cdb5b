"""Auth's own user authentication: the platform check plus the revocation list it owns.

Its schema names both ways to send a token here: a JWT from signing in, or an API key
(which the gateway exchanges for a JWT first).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from accounts.permissions import IsSignedIn
from apikeys import scopes
from oasis_common.authentication import InvalidToken, UserJWTAuthentication
from tokens import revocation


class RevocationAwareJWTAuthentication(UserJWTAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and revocation.is_revoked(result[0].claims):
            raise InvalidToken()
        return result


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = RevocationAwareJWTAuthentication
    name = ["bearerAuth", "apiKey"]
    priority = 1

    def get_security_requirement(self, auto_schema):
        if any(isinstance(permission, IsSignedIn) for permission in auto_schema.view.get_permissions()):
            return {"bearerAuth": []}
        return [{"bearerAuth": []}, {"apiKey": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "http", "scheme": "bearer", "bearerFormat": "oak_…", "description": scopes.DESCRIPTION},
        ]
