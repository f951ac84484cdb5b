"""Files and history: content-addressed blobs, revisions of changed paths, and the current tree.

A revision records only what changed (a path and its new blob, or its deletion), so
storage grows with the changes, not with the size of the project; blobs are keyed by
their SHA-256 within a project, so a restore or a rename stores no new bytes. The
current tree is kept materialised for fast reads; any older tree is the latest change
per path at or before that revision, one query.
"""

from django.db import models

from projects.models import Project


class Blob(models.Model):
    # Each model's unique constraint starts with the project, so its index serves project lookups too.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="blobs", db_index=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    is_text = models.BooleanField(help_text="Valid UTF-8 without NUL bytes.")
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="blob_unique_per_project")]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} bytes)"


class Revision(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="revisions", db_index=False)
    number = models.PositiveIntegerField()
    message = models.CharField(max_length=500, blank=True, default="")
    author_user_id = models.UUIDField(help_text="The user who made it, or on whose behalf.")
    generation_id = models.CharField(
        max_length=100, blank=True, default="", help_text="The builder generation that made it, if any."
    )
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    file_count = models.PositiveIntegerField(help_text="Files in the tree after this revision.")
    size = models.PositiveBigIntegerField(help_text="Bytes in the tree after this revision.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["project", "generation_id"],
                condition=~models.Q(generation_id=""),
                name="revision_generation_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"r{self.number} {self.message[:40]}"

    @property
    def parent(self) -> int | None:
        return self.number - 1 if self.number > 1 else None


class FileChange(models.Model):
    class Action(models.TextChoices):
        CREATED = "created"
        MODIFIED = "modified"
        DELETED = "deleted"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="changes")
    # The revision's number again, so "the latest change per path at or before n" is one indexed query.
    number = models.PositiveIntegerField()
    path = models.CharField(max_length=1024)
    action = models.CharField(max_length=10, choices=Action.choices)
    blob = models.ForeignKey(Blob, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")
    renamed_from = models.CharField(max_length=1024, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "path", "number"], name="file_change_unique"),
        ]
        indexes = [models.Index(fields=["project", "number"], name="file_change_by_number")]

    def __str__(self) -> str:
        return f"r{self.number} {self.action} {self.path}"


class TreeEntry(models.Model):
    """A file of a project's current tree, with what a listing shows (no join needed)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tree", db_index=False)
    path = models.CharField(max_length=1024)
    blob = models.ForeignKey(Blob, on_delete=models.RESTRICT, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    revision_number = models.PositiveIntegerField(help_text="The revision that last changed it.")
    changed_at = models.DateTimeField()

    class Meta:
        # Listings sort paths in Python, by code point: database collations differ (PostgreSQL's
        # locale order is not SQLite's byte order), and an export must not depend on the backend.
        constraints = [models.UniqueConstraint(fields=["project", "path"], name="tree_entry_unique")]

    def __str__(self) -> str:
        return self.path
