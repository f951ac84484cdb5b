"""Who may call: users on the public API, services on the internal one."""

from rest_framework.permissions import BasePermission


class IsUser(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and getattr(user, "token_type", None) == "access")


class IsService(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and getattr(user, "is_service", False))
