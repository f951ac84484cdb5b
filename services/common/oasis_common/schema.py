"""OpenAPI helpers shared by every service: the error envelope, and the public and internal documents.

Each service commits two documents. `openapi.yaml` is the public API, what the gateway
routes (everything under `/api/`), and the only one the gateway publishes at /docs/.
`openapi-internal.yaml` is the service-to-service API under `/internal/`, for the authors of
other services; it is written with `--custom-settings oasis_common.schema.INTERNAL_API`.
"""

from collections.abc import Iterator, Mapping

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

PUBLIC_SCHEMA_FILE = "openapi.yaml"
INTERNAL_SCHEMA_FILE = "openapi-internal.yaml"
PUBLIC_PREFIX = "/api/"
INTERNAL_PREFIX = "/internal/"

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
    """The public document: what the gateway routes; never internal, admin or platform routes."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(PUBLIC_PREFIX)]


def internal_endpoints_only(endpoints):
    """The internal document: the service-to-service API, which the gateway never routes."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(INTERNAL_PREFIX)]


def internal_paths_only(result, generator, request, public):
    """Drop what a service's own postprocessing hooks added for the public document (the event stream)."""
    paths = result["paths"]
    result["paths"] = {path: item for path, item in paths.items() if path.startswith(INTERNAL_PREFIX)}
    return result


class _InternalApi(Mapping):
    """SPECTACULAR_SETTINGS overrides for the internal document, read when the command runs."""

    def _values(self) -> dict:
        from django.conf import settings
        from drf_spectacular.settings import SPECTACULAR_DEFAULTS

        configured = settings.SPECTACULAR_SETTINGS
        hooks = configured.get("POSTPROCESSING_HOOKS", SPECTACULAR_DEFAULTS["POSTPROCESSING_HOOKS"])
        return {
            "TITLE": f"{configured['TITLE']} (internal)",
            "DESCRIPTION": (
                "Service to service, straight to this service and never through the gateway, "
                "with a service token. Not part of the public API."
            ),
            "PREPROCESSING_HOOKS": ["oasis_common.schema.internal_endpoints_only"],
            "POSTPROCESSING_HOOKS": [*hooks, "oasis_common.schema.internal_paths_only"],
        }

    def __getitem__(self, key: str):
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


INTERNAL_API = _InternalApi()


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, documenting the 400 a list answers to a filter value it refuses (`?ordering=`)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if "400" in responses or not self._get_filter_parameters():
            return responses
        refused = OpenApiResponse(response=ErrorSerializer, description=DESCRIPTIONS[400])
        responses["400"] = self._get_response_for_code(refused, "400", direction=direction)
        return dict(sorted(responses.items()))


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
