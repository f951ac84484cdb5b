"""Request and response shapes of the project, template, import and export endpoints."""

import unicodedata

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from files.content_types import content_type_of
from projects import starters
from projects.models import Project
from projects.publication_serializers import PublicationSerializer, publication_of


def no_control_characters(value: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise serializers.ValidationError("Control characters are not allowed.")
    return value


class ProjectSerializer(serializers.ModelSerializer):
    publication = serializers.SerializerMethodField(
        help_text="The project's sites and the revision each serves (a copy of what the sites service says)."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "template",
            "current_revision",
            "file_count",
            "size",
            "created_at",
            "updated_at",
            "publication",
        ]
        read_only_fields = fields
        extra_kwargs = {"size": {"help_text": "Bytes in the current tree."}}

    @extend_schema_field(PublicationSerializer)
    def get_publication(self, project: Project) -> dict:
        return publication_of(project)


class OwnedProjectSerializer(ProjectSerializer):
    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "owner_id"]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, validators=[no_control_characters])
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    template = serializers.ChoiceField(
        choices=[starter.slug for starter in starters.STARTERS],
        required=False,
        allow_blank=True,
        default="",
        help_text="A starter's slug (GET templates/); the project then starts at revision 1.",
    )


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, validators=[no_control_characters])
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ProjectListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)


class TemplateFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class TemplateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    files = serializers.SerializerMethodField()

    @extend_schema_field(TemplateFileSerializer(many=True))
    def get_files(self, starter: starters.Starter) -> list[dict]:
        files = starters.starter_files(starter)
        return [
            {"path": path, "size": len(content), "content_type": content_type_of(path)}
            for path, content in files.items()
        ]


class ProjectImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A zip archive; its paths become the project's paths.")
    name = serializers.CharField(
        max_length=100,
        required=False,
        validators=[no_control_characters],
        help_text="Defaults to the archive's file name without `.zip`.",
    )
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if not data.get("name"):
            stem = (data["file"].name or "").rsplit("/", 1)[-1].removesuffix(".zip").strip()
            if not stem:
                raise serializers.ValidationError({"name": ["Give the project a name."]})
            data["name"] = stem[:100]
        return data


class OwnerQuerySerializer(serializers.Serializer):
    owner_id = serializers.UUIDField(
        help_text="The user the caller acts for; another user's project is a 404."
    )
