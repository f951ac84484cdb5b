"""Sites and deployments: a site is one project's public address; a deployment, a frozen copy of a revision.

A deployment never changes after it is made: its files are copied into the site store by
content hash, so editing, restoring or deleting the project later changes nothing that
visitors see. A site points at one of its deployments (the live one).
"""

import uuid

from django.db import models


class Owner(models.Model):
    """One row per user who has sites: the row lock that keeps the per-user site limit.

    It holds no personal data; users live in auth, and a site names its owner by id.
    """

    id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return str(self.id)


class Site(models.Model):
    class Status(models.TextChoices):
        LIVE = "live"
        UNPUBLISHED = "unpublished"
        DISABLED = "disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField()
    project_id = models.UUIDField()
    slug = models.CharField(max_length=63, unique=True)
    live_deployment = models.ForeignKey(
        "Deployment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The deployment visitors see while the site is published.",
    )
    published = models.BooleanField(
        default=False, help_text="Off after unpublishing; the live deployment is kept."
    )
    disabled_reason = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Set by staff to take the site down; shown to the owner.",
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    publication_version = models.PositiveBigIntegerField(
        default=0, help_text="Counts changes to what the site serves; projects keeps the newest it was told."
    )
    publication_sent = models.PositiveBigIntegerField(
        default=0, help_text="The newest version projects confirmed; behind the version: to be sent again."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner_id", "-created_at"], name="site_owner_recent")]

    def __str__(self) -> str:
        return self.slug

    @property
    def status(self) -> str:
        if self.disabled_at is not None:
            return self.Status.DISABLED
        if self.published and self.live_deployment_id is not None:
            return self.Status.LIVE
        return self.Status.UNPUBLISHED


class RemovedSite(models.Model):
    """A deleted site whose removal projects has not confirmed yet; gone once it has."""

    id = models.UUIDField(primary_key=True, help_text="The deleted site's id.")
    owner_id = models.UUIDField()
    project_id = models.UUIDField()
    version = models.PositiveBigIntegerField(help_text="The site's last publication version, plus one.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.id)


class Deployment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="deployments", db_index=False)
    revision = models.PositiveIntegerField(help_text="The project revision it is a copy of.")
    file_count = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField(help_text="Bytes of its files.")
    published_by = models.UUIDField(help_text="The user who published it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Publishing a revision twice gives the same deployment, even when two requests race.
            models.UniqueConstraint(fields=["site", "revision"], name="deployment_revision_unique_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} r{self.revision}"


class DeploymentFile(models.Model):
    """A file of a deployment: what an object-store backend, or a rebuild of the tree, needs."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="files", db_index=False)
    path = models.CharField(max_length=1024)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "path"], name="deployment_file_unique")]

    def __str__(self) -> str:
        return self.path


class Domain(models.Model):
    """A custom hostname for a site: served only once its owner proved control of it in DNS."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="domains")
    hostname = models.CharField(max_length=253, help_text="Lowercase, ASCII (IDNA) form, no trailing dot.")
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hostname"]
        constraints = [
            models.UniqueConstraint(fields=["site", "hostname"], name="domain_unique_per_site"),
            # Several sites may claim a hostname; only one can have proved it.
            models.UniqueConstraint(
                fields=["hostname"],
                condition=models.Q(verified_at__isnull=False),
                name="domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.hostname

    @property
    def challenge_name(self) -> str:
        return f"_oasis-challenge.{self.hostname}"
