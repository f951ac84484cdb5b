"""oasis_common.schema: the public and internal documents, the error envelope and the two token schemes."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from oasis_common.schema import (
    DESCRIPTIONS,
    INTERNAL_API,
    ErrorSerializer,
    error_responses,
    internal_endpoints_only,
    internal_paths_only,
    public_endpoints_only,
)

ENDPOINTS = [("/api/v1/x/", None), ("/internal/v1/y", None), ("/metrics", None), ("/admin/", None)]


@pytest.fixture(scope="module")
def public_schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def internal_schema():
    with patched_settings(INTERNAL_API):
        return SchemaGenerator().get_schema(request=None, public=True)


def test_the_public_document_holds_the_public_api_only(public_schema):
    assert set(public_schema["paths"]) >= {"/api/v1/testapp/whoami/", "/api/v1/testapp/widgets/"}
    assert all(path.startswith("/api/") for path in public_schema["paths"])


def test_the_internal_document_holds_the_internal_api_only(internal_schema):
    assert set(internal_schema["paths"]) == {"/internal/v1/testapp/whoami/", "/internal/v1/testapp/widgets/"}
    assert internal_schema["info"]["title"] == "Imagi Oasis projects API (internal)"


def test_each_document_describes_its_own_token_scheme(public_schema, internal_schema):
    assert public_schema["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert list(internal_schema["components"]["securitySchemes"]) == ["serviceToken"]
    internal_create = internal_schema["paths"]["/internal/v1/testapp/widgets/"]["post"]
    assert internal_create["security"] == [{"serviceToken": []}]
    assert public_schema["paths"]["/api/v1/testapp/whoami/"]["get"]["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize(
    ("hook", "kept"),
    [(public_endpoints_only, ["/api/v1/x/"]), (internal_endpoints_only, ["/internal/v1/y"])],
)
def test_admin_and_platform_routes_are_in_neither_document(hook, kept):
    assert [path for path, _ in hook(ENDPOINTS)] == kept


def test_a_public_path_a_service_hook_adds_is_left_out_of_the_internal_document():
    result = {"paths": {"/api/v1/builder/generations/{id}/events/": {}, "/internal/v1/holds": {}}}

    assert list(internal_paths_only(result, None, None, True)["paths"]) == ["/internal/v1/holds"]


def test_a_list_documents_the_orderings_it_accepts_and_the_400_for_others(public_schema):
    operation = public_schema["paths"]["/api/v1/testapp/widgets/"]["get"]
    ordering = next(p for p in operation["parameters"] if p["name"] == "ordering")

    assert ordering["in"] == "query"
    assert ordering["schema"] == {
        "type": "string",
        "enum": ["name", "-name", "quantity", "-quantity"],
        "default": "quantity",
    }
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_an_operation_without_orderings_documents_no_extra_400(public_schema):
    assert "400" not in public_schema["paths"]["/api/v1/testapp/whoami/"]["get"]["responses"]


def test_error_responses_describe_the_envelope_for_each_status():
    responses = error_responses(400, 404, 418)
    assert list(responses) == [400, 404, 418]
    assert responses[400].description == DESCRIPTIONS[400]
    assert responses[418].description == "Error."
    assert responses[404].response is ErrorSerializer
