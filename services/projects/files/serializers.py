"""Request and response shapes of the file, change set, revision, diff and snapshot endpoints.

In JSON, a file's contents travel as `text` (a UTF-8 string) or as `base64` (any bytes).
"""

import base64
import binascii

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from files.content_types import content_type_of
from files.models import FileChange, Revision
from files.revisions import Rename
from projects.publication_serializers import PublicationSerializer


class RevisionQuerySerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=0, required=False, help_text="A revision number; the current one by default."
    )


@extend_schema_field(OpenApiTypes.STR)
class PathField(serializers.Field):
    """A file path passed on as sent: `oasis_common.paths` judges it, with its precise error codes."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("A path must be a string.")
        return data

    def to_representation(self, value):
        return value


class FileEntrySerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="Also the file's ETag, in quotes.")
    content_type = serializers.CharField()
    revision = serializers.IntegerField(
        source="revision_number", help_text="The revision that last changed it."
    )
    changed_at = serializers.DateTimeField()


class FileListSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    files = FileEntrySerializer(many=True)


class FileWrittenSerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    content_type = serializers.CharField()
    revision = serializers.IntegerField(help_text="The project's new revision.")


class WriteSerializer(serializers.Serializer):
    path = PathField()
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="The contents as UTF-8 text."
    )
    base64 = serializers.CharField(
        required=False, allow_blank=True, help_text="The contents as base64 (any bytes)."
    )

    def validate(self, data):
        if ("text" in data) == ("base64" in data):
            raise serializers.ValidationError("Give exactly one of `text` or `base64`.")
        if "text" in data:
            try:
                content = data["text"].encode("utf-8")
            except UnicodeEncodeError as exc:
                raise serializers.ValidationError({"text": ["Not valid Unicode text."]}) from exc
        else:
            try:
                content = base64.b64decode(data["base64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise serializers.ValidationError({"base64": ["Not valid base64."]}) from exc
        return {"path": data["path"], "content": content}


class RenameSerializer(serializers.Serializer):
    """`{"from": "old/path", "to": "new/path"}`; `from` is a Python keyword, hence get_fields."""

    to = PathField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = PathField()
        return fields

    def validate(self, data):
        return Rename(source=data["from"], target=data["to"])


class ChangeSetSerializer(serializers.Serializer):
    base_revision = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="The revision these changes were made against: 409 if a touched path changed since.",
    )
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    writes = WriteSerializer(many=True, required=False, default=list)
    deletes = serializers.ListField(child=PathField(), required=False, default=list)
    renames = RenameSerializer(many=True, required=False, default=list)

    def validate(self, data):
        if not (data["writes"] or data["deletes"] or data["renames"]):
            raise serializers.ValidationError("A change set needs at least one write, delete or rename.")
        return data


class InternalChangeSetSerializer(ChangeSetSerializer):
    owner_id = serializers.UUIDField(help_text="The project's owner, on whose behalf the change is made.")
    generation_id = serializers.CharField(
        max_length=100, help_text="The builder generation: applying the same one twice returns its revision."
    )
    base_revision = serializers.IntegerField(min_value=0)


class ChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    action = serializers.ChoiceField(choices=FileChange.Action.choices)
    renamed_from = serializers.CharField(allow_null=True)


class AuthorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "generation"])
    user_id = serializers.UUIDField(help_text="The user, or the user on whose behalf a generation ran.")
    generation_id = serializers.CharField(allow_null=True)


class RevisionSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(allow_null=True, read_only=True)
    author = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = [
            "number",
            "parent",
            "message",
            "author",
            "restored_from",
            "file_count",
            "size",
            "created_at",
            "changes",
        ]
        read_only_fields = fields

    @extend_schema_field(AuthorSerializer)
    def get_author(self, revision: Revision) -> dict:
        return {
            "type": "generation" if revision.generation_id else "user",
            "user_id": str(revision.author_user_id),
            "generation_id": revision.generation_id or None,
        }

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, revision: Revision) -> list[dict]:
        changes = sorted(revision.changes.all(), key=lambda change: change.path)
        return [
            {"path": change.path, "action": change.action, "renamed_from": change.renamed_from or None}
            for change in changes
        ]


class LandedRevisionSerializer(RevisionSerializer):
    publication = PublicationSerializer(
        read_only=True, help_text="The project's sites and the revision each serves now."
    )

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "publication"]
        read_only_fields = fields


class RestoreSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class InternalRestoreSerializer(RestoreSerializer):
    owner_id = serializers.UUIDField(help_text="The project's owner, on whose behalf the revision is made.")
    revision = serializers.IntegerField(
        min_value=0, help_text="The revision whose files the new one takes (0: none, as before the first)."
    )


class DiffQuerySerializer(serializers.Serializer):
    """`?from=&to=`: revision numbers; `to` defaults to the current one, `from` to the one before `to`."""

    to = serializers.IntegerField(min_value=0, required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField(min_value=0, required=False)
        return fields


class FileDiffSerializer(serializers.Serializer):
    path = serializers.CharField()
    action = serializers.ChoiceField(choices=FileChange.Action.choices)
    old_sha256 = serializers.CharField(allow_null=True)
    new_sha256 = serializers.CharField(allow_null=True)
    binary = serializers.BooleanField()
    diff = serializers.CharField(help_text="A unified diff, or `Binary files … differ` for binary files.")


class DiffSerializer(serializers.Serializer):
    to = serializers.IntegerField()
    files = FileDiffSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField()
        return fields


class SnapshotQuerySerializer(serializers.Serializer):
    owner_id = serializers.UUIDField()
    revision = serializers.IntegerField(min_value=0, required=False)
    max_bytes = serializers.IntegerField(
        min_value=0, required=False, help_text="Budget for text contents; capped by OASIS_SNAPSHOT_MAX_BYTES."
    )


class SnapshotFileSerializer(serializers.Serializer):
    path = serializers.CharField(source="entry.path")
    sha256 = serializers.CharField(source="entry.sha256")
    size = serializers.IntegerField(source="entry.size")
    content_type = serializers.SerializerMethodField()
    is_text = serializers.BooleanField(source="entry.is_text")
    content = serializers.CharField(
        allow_null=True, help_text="UTF-8 text; null for binary or omitted files."
    )
    omitted = serializers.BooleanField(help_text="A text file left out because the byte budget ran out.")

    def get_content_type(self, file) -> str:
        return content_type_of(file.entry.path)


class SnapshotSerializer(serializers.Serializer):
    project_id = serializers.UUIDField()
    revision = serializers.IntegerField()
    budget = serializers.IntegerField()
    content_bytes = serializers.IntegerField()
    files = SnapshotFileSerializer(many=True)
    publication = PublicationSerializer(help_text="The project's sites and the revision each serves now.")
