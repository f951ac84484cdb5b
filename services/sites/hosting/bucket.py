"""The site store in an S3-compatible bucket: content-addressed blobs; what is live is the database's.

Layout in `SITES["BUCKET"]`, written through boto3 (one client, shared by every thread):

    blobs/<sha256>        a file's bytes, written once
    blobs/<sha256>.gz     its gzip form, for compressible types over 1 KiB

A deployment is its DeploymentFile rows (path -> blob), and what is live, taken down or
served on a custom domain is the sites' rows: nothing needs a link, so a publish, a
rollback or a takedown is one committed transaction and every replica of every service sees
it at once. The gateway cannot read a bucket: in this mode it asks the sites service for a
file (`hosting.serving`) and keeps the answer in its cache for a few seconds, so Python
serves a cache's misses only (docs/operations.md, "Published sites from a bucket").

A blob found while publishing is touched (copied onto itself), so pruning, which removes
blobs no row names and untouched for its grace period, never takes one a publish in
progress is about to name.
"""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hosting.blobs import STREAM_CHUNK_BYTES, BlobStream, StoredFile, StoreNotWritable, compressible

# Checks and touches are one request each: side by side, a large publish waits on the slowest few.
REQUEST_THREADS = 16
DELETE_BATCH = 1000


@dataclass(frozen=True)
class BucketSettings:
    bucket: str
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""


class BucketStore:
    """The SiteStore of a bucket: blobs only; deployments, live links and markers are rows."""

    def __init__(self, config: BucketSettings) -> None:
        self.bucket = config.bucket
        # A client is safe to share between threads (a session is not), and costs tens of
        # milliseconds to make: one per store, for every request of every thread.
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint_url or None,
            region_name=config.region or None,
            aws_access_key_id=config.access_key_id or None,
            aws_secret_access_key=config.secret_access_key or None,
            config=Config(
                retries={"mode": "standard", "max_attempts": 3},
                max_pool_connections=REQUEST_THREADS * 2,
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    # ---- blobs ----

    def blob_key(self, sha256: str, *, packed: bool = False) -> str:
        return f"blobs/{sha256}.gz" if packed else f"blobs/{sha256}"

    def blobs_missing(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these blobs the bucket lacks; those it holds are touched, so no prune takes them."""
        wanted = sorted(set(sha256s))
        with ThreadPoolExecutor(max_workers=REQUEST_THREADS) as requests:
            held = list(requests.map(self._touch, wanted))
        return {sha for sha, present in zip(wanted, held, strict=True) if not present}

    def _touch(self, sha256: str) -> bool:
        key = self.blob_key(sha256)
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="application/octet-stream",
                Metadata={"touched": str(int(time.time()))},
            )
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def blob_put(self, *, sha256: str, data: bytes, content_type: str) -> None:
        """Write a blob (and its gzip form first, when worth it): an object is whole or absent."""
        if compressible(content_type, len(data)):
            packed = gzip.compress(data, compresslevel=9, mtime=0)
            if len(packed) < len(data) * 0.9:
                self._put(self.blob_key(sha256, packed=True), packed)
        self._put(self.blob_key(sha256), data)

    def _put(self, key: str, data: bytes) -> None:
        # A blob is bytes: the type a visitor gets is the deployment file's, never the object's.
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/octet-stream")

    def blob_stream(self, sha256: str, *, packed: bool = False) -> BlobStream | None:
        """The blob's bytes (its gzip form when `packed`), or None when the bucket lacks it."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.blob_key(sha256, packed=packed))
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        body = answer["Body"]
        return BlobStream(body.iter_chunks(STREAM_CHUNK_BYTES), answer["ContentLength"], body.close)

    def blobs_prune(self, *, grace_seconds: float) -> int:
        """Remove blobs no deployment names and nothing touched within `grace_seconds`; return how many."""
        from hosting.models import DeploymentFile

        cutoff = time.time() - grace_seconds
        removed = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="blobs/")
        for page in pages:
            old = {
                entry["Key"]: entry["Key"].removeprefix("blobs/").removesuffix(".gz")
                for entry in page.get("Contents", [])
                if entry["LastModified"].timestamp() < cutoff
            }
            named = set(
                DeploymentFile.objects.filter(sha256__in=set(old.values())).values_list("sha256", flat=True)
            )
            doomed = [key for key, sha in old.items() if sha not in named]
            for start in range(0, len(doomed), DELETE_BATCH):
                batch = doomed[start : start + DELETE_BATCH]
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            removed += len(doomed)
        return removed

    # ---- deployments: their rows are their trees ----

    def deployment_put(self, *, deployment_id, files: list[StoredFile]) -> None:
        """Nothing to write: the deployment's rows name its blobs."""

    def deployment_exists(self, deployment_id) -> bool:
        return True

    def deployment_missing(self, *, deployment_id, files: list[StoredFile]) -> list[StoredFile]:
        """The deployment's files whose blob the bucket lacks."""
        missing = self.blobs_missing(file.sha256 for file in files)
        return [file for file in files if file.sha256 in missing]

    def deployment_fill(self, *, deployment_id, files: list[StoredFile], missing: list[StoredFile]) -> None:
        """Nothing to link: a blob written again is the file back."""

    def deployment_delete(self, *, deployment_id) -> None:
        """Nothing to remove: its blobs go when pruning finds no row naming them."""

    # ---- live links, takedowns, custom domains: rows, read when serving ----

    def live_point(self, *, slug: str, deployment_id) -> None:
        pass

    def live_remove(self, *, slug: str) -> None:
        pass

    def live_rename(self, *, old: str, new: str) -> None:
        pass

    def disabled_mark(self, *, slug: str, reason: str) -> None:
        pass

    def disabled_clear(self, *, slug: str) -> None:
        pass

    def host_point(self, *, hostname: str, slug: str) -> None:
        pass

    def host_remove(self, *, hostname: str) -> None:
        pass

    # ---- readiness ----

    def writable_check(self) -> None:
        """Raise, saying why, unless the bucket takes an object and lets it go."""
        probe = f".ready/{uuid.uuid4().hex}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ready")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (ClientError, BotoCoreError) as exc:
            raise StoreNotWritable(f"the site bucket {self.bucket} refuses writes: {exc}") from exc


def _is_missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or error.get("Code") in ("NoSuchKey", "404", "NotFound")


@cache
def bucket_store(config: BucketSettings) -> BucketStore:
    return BucketStore(config)
