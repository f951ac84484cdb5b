"""The committed openapi.yaml (public) and openapi-internal.yaml match the code (`make openapi`)."""

from hosting.serializers import RollbackSerializer
from oasis_common.testing import SchemaChecks, committed_schema, list_operations


class TestSchemas(SchemaChecks):
    changed_serializer = RollbackSerializer
    public_prefix = "/api/v1/sites/"


def test_every_list_of_sites_is_documented_as_a_list():
    assert set(list_operations(committed_schema())) == {
        "/api/v1/sites/",
        "/api/v1/sites/{site_id}/deployments/",
        "/api/v1/sites/{site_id}/domains/",
    }
