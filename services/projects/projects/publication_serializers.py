"""Shapes of a project's publication: the summary its answers carry, and the sites service's update."""

from rest_framework import serializers

from projects.models import Project, SitePublication
from projects.publications import publication_sites

SERVING_STATUSES = [
    SitePublication.Status.LIVE,
    SitePublication.Status.UNPUBLISHED,
    SitePublication.Status.DISABLED,
]


class PublishedSiteSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="site_id", help_text="The site, at the sites API.")
    slug = serializers.CharField()
    url = serializers.CharField(help_text="The site's preferred public address.")
    live_revision = serializers.IntegerField(
        allow_null=True, help_text="The revision visitors see now; null unless the site is live."
    )
    status = serializers.ChoiceField(
        choices=SERVING_STATUSES,
        help_text="live: served; unpublished: its owner stopped it; disabled: taken down by staff.",
    )


class PublicationSerializer(serializers.Serializer):
    sites = PublishedSiteSerializer(
        many=True, help_text="The project's sites (none when it was never given one), by slug."
    )


def publication_of(project: Project) -> dict:
    return PublicationSerializer({"sites": publication_sites(project=project)}).data


class PublicationStateSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=63)
    url = serializers.CharField(max_length=300, help_text="The site's preferred public address.")
    live_revision = serializers.IntegerField(min_value=0, allow_null=True)
    status = serializers.ChoiceField(choices=SERVING_STATUSES)


class PublicationUpdateSerializer(serializers.Serializer):
    site_id = serializers.UUIDField()
    version = serializers.IntegerField(
        min_value=1, help_text="The site's change counter: an older one than stored changes nothing."
    )
    state = PublicationStateSerializer(
        allow_null=True, help_text="What the site serves; null: it was deleted."
    )
