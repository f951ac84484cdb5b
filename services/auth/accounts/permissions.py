"""Who may call: any user, or for API keys and credentials, a user who signed in rather than a key."""

from apikeys import scopes
from oasis_common.permissions import IsUser


class IsSignedIn(IsUser):
    """A session of the user's own: an API key never reaches its own kind or the account's credentials."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if scopes.via_api_key(request.user):
            raise scopes.AccountOnly()
        return True
