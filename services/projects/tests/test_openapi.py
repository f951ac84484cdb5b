"""The committed openapi.yaml (public) and openapi-internal.yaml match the code (`make openapi`)."""

from files.serializers import SnapshotSerializer
from oasis_common.testing import SchemaChecks


class TestSchemas(SchemaChecks):
    changed_serializer = SnapshotSerializer
    changed_internal = True
