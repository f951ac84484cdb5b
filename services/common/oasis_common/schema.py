"""OpenAPI helpers shared by every service: the error envelope and which routes are documented."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

DESCRIPTIONS = {
    400: "Invalid input; `details` lists the offending fields.",
    401: "Missing, invalid, expired or revoked credentials.",
    402: "Not enough credits.",
    403: "Not allowed.",
    404: "Not found (also for another user's objects).",
    409: "Conflicts with the current state.",
    412: "The If-Match precondition failed.",
    413: "The request body is too large.",
    422: "Well-formed but not processable.",
    429: "Too many requests; see Retry-After.",
    503: "A service this request needs is unavailable.",
}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case error code.")
    message = serializers.CharField(help_text="For a person.")
    details = serializers.DictField(help_text="Field errors or other structured details.")
    request_id = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_responses(*codes: int) -> dict:
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=DESCRIPTIONS.get(code, "Error."))
        for code in codes
    }


def public_endpoints_only(endpoints):
    """Document the public and internal APIs; leave out admin and platform routes."""
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/") or endpoint[0].startswith("/internal/")
    ]


class UserJWTScheme(OpenApiAuthenticationExtension):
    target_class = "oasis_common.authentication.UserJWTAuthentication"
    name = "bearerAuth"
    match_subclasses = True
    priority = -1

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ServiceJWTScheme(OpenApiAuthenticationExtension):
    target_class = "oasis_common.authentication.ServiceJWTAuthentication"
    name = "serviceToken"
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A service token from auth's /internal/v1/service-token.",
        }
