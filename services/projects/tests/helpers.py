"""Small helpers the projects tests share: creating projects, writing files, reading trees, zips.

Error bodies are checked with `oasis_common.testing.error_of`, the platform's strict check.
"""

from __future__ import annotations

import base64
import io
import zipfile

PROJECTS = "/api/v1/projects/"


def project_url(project: dict | str, suffix: str = "") -> str:
    project_id = project["id"] if isinstance(project, dict) else project
    return f"{PROJECTS}{project_id}/{suffix}"


def file_url(project: dict | str, path: str) -> str:
    return project_url(project, f"files/{path}")


def create_project(client, name: str = "Site", **fields) -> dict:
    response = client.post(PROJECTS, {"name": name, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def put_file(client, project, path: str, content: bytes | str, **headers):
    data = content.encode() if isinstance(content, str) else content
    return client.generic(
        "PUT", file_url(project, path), data, content_type="application/octet-stream", **headers
    )


def write(client, project, path: str, content: bytes | str, **headers) -> dict:
    response = put_file(client, project, path, content, **headers)
    assert response.status_code in (200, 201), response.content
    return response.json()


def change_set(client, project, **body):
    return client.post(project_url(project, "changes/"), body, format="json")


def text(path: str, content: str) -> dict:
    return {"path": path, "text": content}


def binary(path: str, content: bytes) -> dict:
    return {"path": path, "base64": base64.b64encode(content).decode()}


def files_of(client, project, **params) -> dict[str, str]:
    """Path → sha256 of the project's tree (now, or at ?revision=)."""
    response = client.get(project_url(project, "files/"), params)
    assert response.status_code == 200, response.content
    return {entry["path"]: entry["sha256"] for entry in response.json()["files"]}


def contents_of(client, project, **params) -> dict[str, bytes]:
    """Path → bytes of every file of the project (now, or at ?revision=)."""
    return {
        path: client.get(file_url(project, path), params).content
        for path in files_of(client, project, **params)
    }


def make_zip(entries: list[tuple], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip from (name, bytes) or (ZipInfo, bytes) pairs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(client, data: bytes, filename: str = "site.zip", **fields):
    upload_file = io.BytesIO(data)
    upload_file.name = filename
    return client.post(f"{PROJECTS}import/", {"file": upload_file, **fields}, format="multipart")
