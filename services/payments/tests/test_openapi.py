"""The committed openapi.yaml (public) and openapi-internal.yaml match the code (`make openapi`)."""

from credits.serializers import BalanceSerializer
from oasis_common.testing import SchemaChecks


class TestSchemas(SchemaChecks):
    changed_serializer = BalanceSerializer
