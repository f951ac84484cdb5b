"""Projects: one user's website, its name and description, and the summary of its current tree."""

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Owner(models.Model):
    """One row per user who has projects: the row lock that keeps the per-user project limit.

    It holds no personal data; users live in auth, and a project names its owner by id.
    """

    id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return str(self.id)


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    template = models.CharField(max_length=50, blank=True, default="", help_text="The starter it came from.")
    current_revision = models.PositiveIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes in the current tree.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now, help_text="The last change.")

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        constraints = [
            models.UniqueConstraint("owner_id", Lower("name"), name="project_name_unique_per_owner"),
        ]
        indexes = [models.Index(fields=["owner_id", "-updated_at"], name="project_owner_recent")]

    def __str__(self) -> str:
        return self.name


class SitePublication(models.Model):
    """What one site of the project serves, as the sites service last said: a copy kept for reads.

    Sites owns publication; it sends each site's state after every change, numbered by a
    per-site version, so a late or repeated message never undoes a newer one. A removed
    site stays as a `removed` row: remembering its version keeps an older message from
    bringing it back.
    """

    class Status(models.TextChoices):
        LIVE = "live"
        UNPUBLISHED = "unpublished"
        DISABLED = "disabled"
        REMOVED = "removed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="site_publications")
    site_id = models.UUIDField()
    slug = models.CharField(max_length=63, blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    live_revision = models.PositiveIntegerField(
        null=True, blank=True, help_text="The revision visitors see; null unless the site is live."
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    version = models.PositiveBigIntegerField(help_text="The site's change counter at sites.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["project", "site_id"], name="site_publication_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.status})"
