"""Request and response shapes of the internal manifest and blob batch endpoints (for the sites service)."""

import base64
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from files.manifests import MAX_BATCH_BYTES, MAX_BLOBS_PER_BATCH

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestQuerySerializer(serializers.Serializer):
    owner_id = serializers.UUIDField()


class ManifestFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class ManifestSerializer(serializers.Serializer):
    project_id = serializers.UUIDField()
    revision = serializers.IntegerField(
        help_text="The revision's number (the current one's when asked for `current`)."
    )
    file_count = serializers.IntegerField()
    size = serializers.IntegerField(help_text="Bytes of all its files.")
    files = ManifestFileSerializer(many=True, help_text="Sorted by path.")


class BlobBatchRequestSerializer(serializers.Serializer):
    owner_id = serializers.UUIDField()
    sha256 = serializers.ListField(
        child=serializers.RegexField(SHA256, max_length=64),
        min_length=1,
        max_length=MAX_BLOBS_PER_BATCH,
        help_text="The blobs wanted, in the order they should come.",
    )
    max_bytes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_BATCH_BYTES,
        required=False,
        default=MAX_BATCH_BYTES,
        help_text="Stop before the blob that would pass this many bytes (the first always comes).",
    )


class BlobSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    content = serializers.SerializerMethodField(help_text="The bytes, base64.")

    @extend_schema_field(serializers.CharField())
    def get_content(self, blob: dict) -> str:
        return base64.b64encode(blob["data"]).decode("ascii")


class BlobBatchSerializer(serializers.Serializer):
    blobs = BlobSerializer(many=True, help_text="A prefix of the blobs asked for; ask again for the rest.")
