"""oasis_common.schema: the documented routes, the error envelope and the two token schemes."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from oasis_common.schema import DESCRIPTIONS, ErrorSerializer, error_responses, public_endpoints_only


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_only_the_public_and_internal_apis_are_documented(schema):
    assert set(schema["paths"]) >= {"/api/v1/testapp/whoami/", "/internal/v1/testapp/widgets/"}
    assert all(path.startswith(("/api/", "/internal/")) for path in schema["paths"])


def test_both_token_schemes_are_described(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["serviceToken"]["scheme"] == "bearer"
    assert schema["paths"]["/internal/v1/testapp/widgets/"]["post"]["security"] == [{"serviceToken": []}]
    assert schema["paths"]["/api/v1/testapp/whoami/"]["get"]["security"] == [{"bearerAuth": []}]


def test_endpoints_outside_the_apis_are_left_out():
    endpoints = [("/api/v1/x/", None), ("/internal/v1/y", None), ("/metrics", None), ("/admin/", None)]
    assert [path for path, _ in public_endpoints_only(endpoints)] == ["/api/v1/x/", "/internal/v1/y"]


def test_error_responses_describe_the_envelope_for_each_status():
    responses = error_responses(400, 404, 418)
    assert list(responses) == [400, 404, 418]
    assert responses[400].description == DESCRIPTIONS[400]
    assert responses[418].description == "Error."
    assert responses[404].response is ErrorSerializer
