"""Request and response shapes of sites and their deployments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hosting.addresses import site_urls
from hosting.domains import dns_records
from hosting.hostnames import hostname_clean
from hosting.models import Deployment, DeploymentFile, Domain, Site
from hosting.slugs import slug_problem
from hosting.store import blob_etag


class SlugField(serializers.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            "The site's name in its address: 3-63 lowercase letters, digits and inner hyphens; "
            "some names are reserved.",
        )
        super().__init__(max_length=63, **kwargs)

    def to_internal_value(self, data) -> str:
        slug = super().to_internal_value(data)
        if problem := slug_problem(slug):
            raise serializers.ValidationError(problem)
        return slug


class SiteCreateSerializer(serializers.Serializer):
    project_id = serializers.UUIDField(help_text="A project of yours.")
    slug = SlugField()


class SiteUpdateSerializer(serializers.Serializer):
    slug = SlugField()


class PublishSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1, required=False, help_text="The project revision to publish; its current one by default."
    )


class RollbackSerializer(serializers.Serializer):
    deployment = serializers.UUIDField(help_text="A deployment of this site.")


class LiveDeploymentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class SiteSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=Site.Status.choices,
        help_text="live: visitors see the live deployment; unpublished: nothing is served; "
        "disabled: taken down by staff (see disabled_reason).",
    )
    urls = serializers.SerializerMethodField(
        help_text="The site's public addresses, the preferred first: verified custom domains, then its own."
    )
    live_deployment = LiveDeploymentSerializer(
        allow_null=True, help_text="The deployment served while the site is live (kept while unpublished)."
    )
    live_revision = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = [
            "id",
            "project_id",
            "slug",
            "status",
            "disabled_reason",
            "urls",
            "live_deployment",
            "live_revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_urls(self, site: Site) -> list[str]:
        domains = getattr(site, "verified_domains", None)
        if domains is None:
            domains = site.domains.filter(verified_at__isnull=False).order_by("hostname")
        return site_urls(site.slug, [domain.hostname for domain in domains])

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_live_revision(self, site: Site) -> int | None:
        return site.live_deployment.revision if site.live_deployment_id else None


class DeploymentSerializer(serializers.ModelSerializer):
    live = serializers.SerializerMethodField(help_text="Whether the site serves this deployment now.")

    class Meta:
        model = Deployment
        fields = ["id", "revision", "file_count", "size", "published_by", "created_at", "live"]
        read_only_fields = fields

    def get_live(self, deployment: Deployment) -> bool:
        site = self.context.get("site")
        return bool(site and site.status == Site.Status.LIVE and site.live_deployment_id == deployment.pk)


class DeploymentFileSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(read_only=True, help_text="The SHA-256 of the file's bytes, in hex.")
    etag = serializers.SerializerMethodField(
        help_text="The strong ETag the site answers this file with (its gzip form, when sent, has another)."
    )

    class Meta:
        model = DeploymentFile
        fields = ["path", "size", "content_type", "sha256", "etag"]
        read_only_fields = fields

    def get_etag(self, file: DeploymentFile) -> str:
        return blob_etag(file.sha256, file.size)


class DeploymentDetailSerializer(DeploymentSerializer):
    files = DeploymentFileSerializer(
        many=True, read_only=True, help_text="Every file of the deployment, in path order."
    )

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "files"]
        read_only_fields = fields


class DomainCreateSerializer(serializers.Serializer):
    hostname = serializers.CharField(
        max_length=253, help_text="A domain you control, e.g. `www.example.com`."
    )

    def validate_hostname(self, value: str) -> str:
        hostname, problem = hostname_clean(value)
        if problem:
            raise serializers.ValidationError(problem)
        return hostname


class DnsRecordSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["TXT", "CNAME"])
    name = serializers.CharField()
    value = serializers.CharField()


class DomainSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(
        help_text="pending until the TXT record is found; then verified."
    )
    records = serializers.SerializerMethodField(
        help_text="Create these at your DNS host: the TXT record proves control; the CNAME sends visitors."
    )

    class Meta:
        model = Domain
        fields = ["id", "hostname", "status", "records", "verified_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "verified"]))
    def get_status(self, domain: Domain) -> str:
        return "verified" if domain.verified_at else "pending"

    @extend_schema_field(DnsRecordSerializer(many=True))
    def get_records(self, domain: Domain) -> list[dict]:
        return dns_records(domain)
