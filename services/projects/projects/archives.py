"""Zip export and import of a project.

Export is reproducible: entries in path order, fixed timestamps and permissions, so one
revision always gives the same bytes. Import trusts nothing in the archive: every entry
is checked (paths, links, sizes, compression ratio, encryption) before a byte is
written, and the project is created in one transaction with one revision.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from rest_framework import status

from files.revisions import file_size_check
from files.trees import blob_contents, tree_read
from oasis_common.errors import ServiceError
from oasis_common.paths import InvalidPath, path_clean
from projects.lifecycle import project_create
from projects.models import Project

# 1980-01-01, the earliest time a zip can hold: no clock or time zone leaks into the bytes.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
# Blobs are read this many at a time while streaming, so memory stays bounded.
BATCH = 32
# Entries smaller than this may compress very well (a page of spaces) without being a bomb.
RATIO_FLOOR_BYTES = 64 * 1024


class ArchiveRefused(ServiceError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "archive_refused"


class _Sink:
    """A write-only file that hands over what zipfile wrote so far: the zip streams as it is built."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def archive_stream(*, project: Project, revision: int | None = None) -> Iterator[bytes]:
    """The zip of `project` at `revision` (default: now), in chunks.

    The tree is read now, so a bad revision is refused before the response starts.
    """
    return _zip_chunks(project, tree_read(project=project, revision=revision))


def _zip_chunks(project: Project, entries: list) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for start in range(0, len(entries), BATCH):
            batch = entries[start : start + BATCH]
            contents = blob_contents(project=project, blob_ids=[entry.blob_id for entry in batch])
            for entry in batch:
                info = zipfile.ZipInfo(entry.path, date_time=FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so the permissions below mean the same everywhere
                info.external_attr = FILE_MODE << 16
                archive.writestr(info, contents[entry.blob_id])
                yield sink.take()
    yield sink.take()


def archive_filename(*, project: Project, revision: int) -> str:
    safe = "".join(
        char if char.isascii() and (char.isalnum() or char in "-_") else "-" for char in project.name
    )
    return f"{safe.strip('-') or 'project'}-r{revision}.zip"


def _refuse(code: str, message: str, **details) -> ArchiveRefused:
    return ArchiveRefused(message, code=code, details=details)


def archive_read(upload: IO[bytes], *, size: int) -> dict[str, bytes]:
    """The files of an uploaded zip by path, or a refusal naming the first problem found."""
    limits = settings.OASIS
    if size > limits["IMPORT_MAX_BYTES"]:
        raise ServiceError(
            f"An archive may be at most {limits['IMPORT_MAX_BYTES']} bytes.",
            code="archive_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            details={"limit": limits["IMPORT_MAX_BYTES"]},
        )
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _refuse("archive_invalid", "This is not a readable zip file.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits["IMPORT_MAX_ENTRIES"]:
            raise _refuse(
                "archive_too_many_entries",
                f"An archive may hold at most {limits['IMPORT_MAX_ENTRIES']} entries.",
                entries=len(infos),
                limit=limits["IMPORT_MAX_ENTRIES"],
            )
        files = [info for info in infos if _entry_check(info)]
        total = sum(info.file_size for info in files)
        if total > limits["MAX_PROJECT_BYTES"]:
            raise _refuse(
                "archive_too_large_uncompressed",
                f"The archive would unpack to more than {limits['MAX_PROJECT_BYTES']} bytes.",
                size=total,
                limit=limits["MAX_PROJECT_BYTES"],
            )
        compressed = sum(info.compress_size for info in files)
        if total > RATIO_FLOOR_BYTES and total > limits["IMPORT_MAX_RATIO"] * max(compressed, 1):
            raise _refuse("archive_ratio", "The archive is compressed suspiciously well (a zip bomb?).")
        contents: dict[str, bytes] = {}
        for info in files:
            path = path_clean(info.orig_filename)
            if path in contents:
                raise _refuse("archive_duplicate_path", "The archive holds the same path twice.", entry=path)
            contents[path] = _entry_read(archive, info)
    return contents


def _entry_check(info: zipfile.ZipInfo) -> bool:
    """Refuse a dangerous entry; True for a file to import, False for a folder entry to skip."""
    # The name as the archive stores it: zipfile's `filename` silently ends at a NUL, so an entry
    # `evil.html\0.txt` would pass as `evil.html`. The file API's path rules judge it whole, and
    # first, so every refusal below echoes a name known to be printable.
    name = info.orig_filename
    is_folder = info.is_dir()
    try:
        path_clean(name.rstrip("/") if is_folder else name)
    except InvalidPath as exc:
        raise _refuse(
            "archive_unsafe_path",
            "The archive holds a path that is not allowed.",
            entry=exc.details["path"],
            reason=exc.code,
        ) from exc
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _refuse("archive_symlink", "Archives may not contain symbolic links.", entry=name[:200])
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _refuse("archive_special_file", "Archives may hold only files and folders.", entry=name[:200])
    if info.flag_bits & 0x1:
        raise _refuse("archive_encrypted", "Encrypted archives cannot be imported.", entry=name[:200])
    if is_folder:
        return False
    file_size_check(path=name, size=info.file_size)
    limit = settings.OASIS["IMPORT_MAX_RATIO"]
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limit * max(info.compress_size, 1):
        raise _refuse(
            "archive_ratio", "An entry is compressed suspiciously well (a zip bomb?).", entry=name[:200]
        )
    return True


def _entry_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as handle:
            # zipfile stops at the declared size and checks the CRC, so a lying header cannot inflate this.
            data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
        raise _refuse(
            "archive_invalid", "An entry of the archive cannot be read.", entry=info.orig_filename[:200]
        ) from exc
    if len(data) != info.file_size:
        raise _refuse(
            "archive_invalid", "An entry's size does not match its header.", entry=info.orig_filename[:200]
        )
    return data


def project_import(*, owner_id, name: str, description: str, upload: IO[bytes], size: int) -> Project:
    """Create a project from a zip: everything is checked first, then one revision holds every file."""
    files = archive_read(upload, size=size)
    return project_create(
        owner_id=owner_id,
        name=name,
        description=description,
        files=files,
        message="Import from a zip archive",
    )
