"""The site store: content-addressed blobs, immutable deployment trees, and the links the gateway follows.

Layout under `SITES["STORE"]`, made for nginx to serve without Python:

    blobs/<sha[:2]>/<sha256>          a file's bytes, written once; mtime derived from the hash
    blobs/<sha[:2]>/<sha256>.gz       its gzip form, for compressible types over 1 KiB (gzip_static)
    deployments/<deployment-id>/<path>        hard links to the blobs (and `<path>.gz` to the .gz)
    live/<slug>  -> ../deployments/<id>       the site's live deployment, switched atomically
    hosts/<hostname> -> ../live/<slug>        a verified custom domain's files
    domains/<hostname>                        a verified custom domain (its slug inside), whatever its state
    domain-takedowns/<hostname> -> ../disabled/<slug>    resolves while its site is taken down
    disabled/<slug>                           a taken-down site (the reason inside)

The gateway serves it as static files: `/s/<slug>/<path>` and `<slug>.<domain>` from
`live/<slug>/`, a host listed in `domains/` from `hosts/<host>/` (never the API, even
while its site is unpublished), after answering the takedown page when `disabled/<slug>`
(or `domain-takedowns/<host>`) exists; `index.html` for folders, `gzip_static on` for the `.gz`
forms, and nginx's own ETag (mtime-size, a function of the content here).

Every change is made beside its target and then put in place in one step (a rename, or
a link for blobs, which are never replaced), so a visitor sees the old state or the new
one, never a half-written one. The store sits behind `store()`: with `SITES["BUCKET"]` set,
it is an S3-compatible bucket instead (`hosting.bucket`), and the gateway asks this service
for each file (`hosting.serving`) behind its cache.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings

from hosting.blobs import STREAM_CHUNK_BYTES, BlobStream, StoredFile, StoreNotWritable, compressible
from hosting.bucket import BucketSettings, bucket_store

# nginx's ETag is mtime-size: an mtime that is a function of the content makes it one too,
# the same in every deployment and on every replica.
MTIME_BASE = 1_000_000_000


def blob_mtime(sha256: str) -> int:
    return MTIME_BASE + int(sha256[:7], 16)


def blob_etag(sha256: str, size: int) -> str:
    """The strong ETag nginx sends for the file's bytes as stored: `"<mtime hex>-<size hex>"`."""
    return f'"{blob_mtime(sha256):x}-{size:x}"'


class SiteStore(Protocol):
    """What publishing and rebuilding need from a store; an object-store backend would implement the same."""

    def blobs_missing(self, sha256s: Iterable[str]) -> set[str]: ...
    def blob_put(self, *, sha256: str, data: bytes, content_type: str) -> None: ...
    def blob_stream(self, sha256: str, *, packed: bool = False) -> BlobStream | None: ...
    def blobs_prune(self, *, grace_seconds: float) -> int: ...
    def deployment_put(self, *, deployment_id, files: list[StoredFile]) -> None: ...
    def deployment_exists(self, deployment_id) -> bool: ...
    def deployment_missing(self, *, deployment_id, files: list[StoredFile]) -> list[StoredFile]: ...
    def deployment_fill(
        self, *, deployment_id, files: list[StoredFile], missing: list[StoredFile]
    ) -> None: ...
    def deployment_delete(self, *, deployment_id) -> None: ...
    def live_point(self, *, slug: str, deployment_id) -> None: ...
    def live_remove(self, *, slug: str) -> None: ...
    def live_rename(self, *, old: str, new: str) -> None: ...
    def disabled_mark(self, *, slug: str, reason: str) -> None: ...
    def disabled_clear(self, *, slug: str) -> None: ...
    def host_point(self, *, hostname: str, slug: str) -> None: ...
    def host_remove(self, *, hostname: str) -> None: ...
    def writable_check(self) -> None: ...


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for folder in ("blobs", "deployments", "live", "hosts", "disabled", "domains", "domain-takedowns"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    # ---- blobs ----

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def blobs_missing(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these blobs the store does not hold yet."""
        return {sha for sha in set(sha256s) if not self.blob_path(sha).is_file()}

    def blob_put(self, *, sha256: str, data: bytes, content_type: str) -> None:
        """Write a blob once (and its gzip form when worth it); a blob already there is left alone."""
        target = self.blob_path(sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        mtime = blob_mtime(sha256)
        if compressible(content_type, len(data)):
            packed = gzip.compress(data, compresslevel=9, mtime=0)
            if len(packed) < len(data) * 0.9:
                # The .gz goes first: a blob that exists always has its sibling, if it is to have one.
                _write_once(target.with_name(f"{sha256}.gz"), packed, mtime)
        _write_once(target, data, mtime)

    def blob_stream(self, sha256: str, *, packed: bool = False) -> BlobStream | None:
        """The blob's bytes (its gzip form when `packed`), or None when the store lacks it."""
        path = self.blob_path(sha256)
        if packed:
            path = path.with_name(f"{sha256}.gz")
        try:
            handle = open(path, "rb")  # noqa: SIM115 - the stream closes it
        except FileNotFoundError:
            return None
        chunks = iter(lambda: handle.read(STREAM_CHUNK_BYTES), b"")
        return BlobStream(chunks, os.fstat(handle.fileno()).st_size, handle.close)

    def blobs_prune(self, *, grace_seconds: float) -> int:
        """Remove blobs no deployment links to any more; return how many went.

        A blob's link count says how many deployment trees hold it (1: only its own name).
        Those changed within `grace_seconds` are kept: a publish in progress may have
        written them and not linked them yet.
        """
        cutoff = time.time() - grace_seconds
        removed = 0
        for folder in (self.root / "blobs").iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
                if stat.st_nlink == 1 and stat.st_ctime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    # ---- deployments ----

    def deployment_path(self, deployment_id) -> Path:
        return self.root / "deployments" / str(deployment_id)

    def deployment_put(self, *, deployment_id, files: list[StoredFile]) -> None:
        """Build the deployment's tree of hard links beside its place, and rename it in when complete."""
        final = self.deployment_path(deployment_id)
        if final.is_dir():
            return
        building = final.with_name(f".building-{deployment_id}-{uuid.uuid4().hex[:8]}")
        paths = {file.path for file in files}
        try:
            building.mkdir()
            for file in files:
                self._link(file, tree=building, paths=paths)
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise

    def deployment_exists(self, deployment_id) -> bool:
        return self.deployment_path(deployment_id).is_dir()

    def deployment_missing(self, *, deployment_id, files: list[StoredFile]) -> list[StoredFile]:
        """Which of the deployment's files its tree lacks (all of them when the tree is gone)."""
        tree = self.deployment_path(deployment_id)
        if not tree.is_dir():
            return list(files)
        return [file for file in files if not (tree / file.path).is_file()]

    def deployment_fill(self, *, deployment_id, files: list[StoredFile], missing: list[StoredFile]) -> None:
        """Link the `missing` files of `files` back into the deployment's existing tree.

        Each file appears whole (a hard link), and only where nothing is: what was there stays.
        """
        tree = self.deployment_path(deployment_id)
        paths = {file.path for file in files}
        for file in missing:
            self._link(file, tree=tree, paths=paths)

    def _link(self, file: StoredFile, *, tree: Path, paths: set[str]) -> None:
        blob = self.blob_path(file.sha256)
        destination = tree / file.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.link(blob, destination)
        packed = blob.with_name(f"{file.sha256}.gz")
        # A project file that is itself named `<path>.gz` wins over our compressed copy.
        if f"{file.path}.gz" not in paths and packed.is_file():
            with contextlib.suppress(FileExistsError):
                os.link(packed, destination.with_name(f"{destination.name}.gz"))

    def deployment_delete(self, *, deployment_id) -> None:
        """Remove a deployment's tree (its blobs stay: other deployments may share them)."""
        final = self.deployment_path(deployment_id)
        if not final.exists():
            return
        # Renamed away first, so the tree disappears at once rather than file by file.
        doomed = final.with_name(f".deleting-{deployment_id}-{uuid.uuid4().hex[:8]}")
        os.rename(final, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    # ---- live links ----

    def live_path(self, slug: str) -> Path:
        return self.root / "live" / slug

    def live_point(self, *, slug: str, deployment_id) -> None:
        """Make `deployment_id` the one visitors of `slug` see, in one rename."""
        _symlink_replace(self.live_path(slug), f"../deployments/{deployment_id}")

    def live_target(self, slug: str) -> str | None:
        """The deployment id `slug` points at, or None."""
        link = self.live_path(slug)
        if not link.is_symlink():
            return None
        return os.readlink(link).rsplit("/", 1)[-1]

    def live_remove(self, *, slug: str) -> None:
        self.live_path(slug).unlink(missing_ok=True)

    def live_rename(self, *, old: str, new: str) -> None:
        """Move a site's link to its new slug: the new address works before the old one stops."""
        old_link = self.live_path(old)
        if old_link.is_symlink():
            _symlink_replace(self.live_path(new), os.readlink(old_link))
            old_link.unlink(missing_ok=True)
        marker = self.root / "disabled" / old
        if marker.is_file():
            os.replace(marker, self.root / "disabled" / new)

    # ---- takedowns ----

    def disabled_mark(self, *, slug: str, reason: str) -> None:
        target = self.root / "disabled" / slug
        _write_replace(target, reason.encode())

    def disabled_clear(self, *, slug: str) -> None:
        (self.root / "disabled" / slug).unlink(missing_ok=True)

    def is_disabled(self, slug: str) -> bool:
        return (self.root / "disabled" / slug).is_file()

    # ---- custom domains ----

    def host_path(self, hostname: str) -> Path:
        return self.root / "hosts" / hostname

    def host_point(self, *, hostname: str, slug: str) -> None:
        """Serve `hostname` as `slug`: the gateway knows the host by `domains/<host>` (a plain file,
        there whatever the site's state, so an unpublished site's host never falls through to the
        API), serves `hosts/<host>` and answers 451 while `domain-takedowns/<host>` resolves."""
        _write_replace(self.root / "domains" / hostname, slug.encode())
        _symlink_replace(self.root / "domain-takedowns" / hostname, f"../disabled/{slug}")
        _symlink_replace(self.host_path(hostname), f"../live/{slug}")

    def host_remove(self, *, hostname: str) -> None:
        self.host_path(hostname).unlink(missing_ok=True)
        (self.root / "domain-takedowns" / hostname).unlink(missing_ok=True)
        (self.root / "domains" / hostname).unlink(missing_ok=True)

    def host_is_complete(self, *, hostname: str, slug: str) -> bool:
        def points(folder: str, target: str) -> bool:
            link = self.root / folder / hostname
            return os.path.lexists(link) and link.is_symlink() and os.readlink(link) == target

        marker = self.root / "domains" / hostname
        return (
            points("hosts", f"../live/{slug}")
            and points("domain-takedowns", f"../disabled/{slug}")
            and marker.is_file()
            and marker.read_bytes() == slug.encode()
        )

    def writable_check(self) -> None:
        store_writable_check(self)


def _write_once(target: Path, data: bytes, mtime: int) -> None:
    """Write `target` through a temporary file, durably, with a fixed mtime; never a partial file.

    The complete file is linked into place rather than renamed over it: a blob another
    publish wrote meanwhile is kept, never replaced. Replacing it would leave its old inode
    with no name while that publish hard-links it, and the link would fail.
    """
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.utime(temporary, (mtime, mtime))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(target.parent)


def _write_replace(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _symlink_replace(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: a new link beside it, renamed over the old one."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def store_writable_check(files: FilesystemStore) -> None:
    """Raise, saying why, unless each folder publishing writes takes a file, durably, and lets it go.

    A readiness check: a pod whose store is read-only or full would fail every publish.
    """
    for folder in ("blobs", "deployments", "live"):
        probe = files.root / folder / f".ready-{uuid.uuid4().hex[:8]}"
        try:
            with open(probe, "wb") as handle:
                handle.write(b"ready")
                os.fsync(handle.fileno())
            probe.unlink()
        except OSError as exc:
            with contextlib.suppress(OSError):
                probe.unlink()
            raise StoreNotWritable(
                f"the site store cannot write in {files.root / folder}: {exc.strerror}"
            ) from exc


@cache
def _store_at(root: str) -> FilesystemStore:
    return FilesystemStore(Path(root))


def store() -> SiteStore:
    """The configured site store: the bucket when one is named, else the tree the gateway serves."""
    sites = settings.SITES
    if sites["BUCKET"]:
        return bucket_store(
            BucketSettings(
                bucket=sites["BUCKET"],
                endpoint_url=sites["S3_ENDPOINT_URL"],
                region=sites["S3_REGION"],
                access_key_id=sites["S3_ACCESS_KEY_ID"],
                secret_access_key=sites["S3_SECRET_ACCESS_KEY"],
            )
        )
    return _store_at(str(sites["STORE"]))
