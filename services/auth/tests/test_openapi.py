"""The committed openapi.yaml (public) and openapi-internal.yaml match the code (`make openapi`)."""

from oasis_common.testing import SchemaChecks
from tokens.serializers import TokenPairSerializer


class TestSchemas(SchemaChecks):
    changed_serializer = TokenPairSerializer
