"""Auth's own user authentication: the platform check plus the revocation list it owns."""

from oasis_common.authentication import InvalidToken, UserJWTAuthentication
from tokens import revocation


class RevocationAwareJWTAuthentication(UserJWTAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and revocation.is_revoked(result[0].claims):
            raise InvalidToken()
        return result
