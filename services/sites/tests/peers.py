"""Stand-ins for what crosses the sites service's boundary: auth and projects over HTTP.

They speak projects' real internal API (paths, bodies, status codes, error envelope),
registered with `responses`, so the service's own client code runs unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import responses

PROJECTS = "http://projects.test"
AUTH = "http://auth.test"


def _error(status: int, code: str, message: str = "") -> tuple:
    body = {"error": {"code": code, "message": message or code, "details": {}, "request_id": ""}}
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _ok(body: dict) -> tuple:
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FakeProject:
    owner_id: str
    # revision number -> {path: bytes}
    revisions: dict[int, dict[str, bytes]] = field(default_factory=dict)

    @property
    def current(self) -> int:
        return max(self.revisions, default=0)


class FakeProjects:
    """Projects as sites sees it; `down` makes it answer 503, as a dead peer behind a proxy would."""

    def __init__(self) -> None:
        self.projects: dict[str, FakeProject] = {}
        self.lock = threading.Lock()
        self.down = False
        # Blob batches answer 503 from this many on (None: never), as when projects dies mid-publish.
        self.blobs_fail_after: int | None = None
        self.blob_requests: list[list[str]] = []
        # What sites told projects each site serves: project id -> site id -> (version, state).
        self.publications: dict[str, dict[str, tuple[int, dict | None]]] = {}
        self.publication_requests: list[dict] = []
        # Publication updates answer 503 while set, the rest of projects answering as usual.
        self.publication_down = False

    def add(self, owner_id, files: dict[str, bytes] | None = None) -> str:
        project_id = str(uuid.uuid4())
        self.projects[project_id] = FakeProject(owner_id=str(owner_id))
        if files is not None:
            self.commit(project_id, files)
        return project_id

    def commit(self, project_id: str, files: dict[str, bytes]) -> int:
        project = self.projects[project_id]
        number = project.current + 1
        project.revisions[number] = dict(files)
        return number

    def _owned(self, request, project_id: str, owner_id: str | None) -> FakeProject | None:
        project = self.projects.get(project_id)
        return project if project and project.owner_id == owner_id else None

    def metadata(self, request):
        if self.down:
            return _error(503, "service_unavailable")
        url = urlparse(request.url)
        project_id = url.path.rstrip("/").rsplit("/", 1)[-1]
        owner_id = parse_qs(url.query).get("owner_id", [None])[0]
        project = self._owned(request, project_id, owner_id)
        if project is None:
            return _error(404, "not_found")
        return _ok(
            {"id": project_id, "owner_id": owner_id, "name": "A project", "current_revision": project.current}
        )

    def manifest(self, request):
        if self.down:
            return _error(503, "service_unavailable")
        url = urlparse(request.url)
        match = re.search(r"/projects/([^/]+)/revisions/([^/]+)/manifest", url.path)
        project_id, number = match.group(1), match.group(2)
        project = self._owned(request, project_id, parse_qs(url.query).get("owner_id", [None])[0])
        if project is None:
            return _error(404, "not_found")
        revision = project.current if number == "current" else int(number)
        # Revision 0 is the empty tree before the first change, as in projects.
        if revision != 0 and revision not in project.revisions:
            return _error(404, "revision_not_found")
        files = [
            {
                "path": path,
                "sha256": sha(data),
                "size": len(data),
                "content_type": mimetypes.guess_type(path)[0] or "application/octet-stream",
            }
            for path, data in sorted(project.revisions.get(revision, {}).items())
        ]
        return _ok({"project_id": project_id, "revision": revision, "files": files})

    def blobs(self, request):
        failing = self.blobs_fail_after is not None and len(self.blob_requests) >= self.blobs_fail_after
        if self.down or failing:
            return _error(503, "service_unavailable")
        project_id = re.search(r"/projects/([^/]+)/blobs", request.url).group(1)
        body = json.loads(request.body)
        project = self._owned(request, project_id, body.get("owner_id"))
        if project is None:
            return _error(404, "not_found")
        self.blob_requests.append(list(body["sha256"]))
        known = {sha(data): data for files in project.revisions.values() for data in files.values()}
        out, used = [], 0
        for wanted in body["sha256"]:
            data = known[wanted]
            if out and used + len(data) > body["max_bytes"]:
                break
            out.append({"sha256": wanted, "content": base64.b64encode(data).decode()})
            used += len(data)
        return _ok({"blobs": out})

    def publication(self, request):
        if self.down or self.publication_down:
            return _error(503, "service_unavailable")
        url = urlparse(request.url)
        project_id = re.search(r"/projects/([^/]+)/publication", url.path).group(1)
        project = self._owned(request, project_id, parse_qs(url.query).get("owner_id", [None])[0])
        if project is None:
            return _error(404, "not_found")
        body = json.loads(request.body)
        self.publication_requests.append({"project_id": project_id, **body})
        with self.lock:
            sites = self.publications.setdefault(project_id, {})
            stored = sites.get(body["site_id"])
            if stored is None or stored[0] <= body["version"]:
                sites[body["site_id"]] = (body["version"], body["state"])
        return _ok({"sites": self.sites_of(project_id)})

    def sites_of(self, project_id: str) -> list[dict]:
        """The project's sites as projects shows them: deleted ones left out."""
        return [
            {"id": site_id, **state}
            for site_id, (_version, state) in sorted(self.publications.get(project_id, {}).items())
            if state is not None
        ]


def install(mock: responses.RequestsMock, projects: FakeProjects) -> None:
    mock.add(
        responses.POST,
        f"{AUTH}/internal/v1/service-token",
        json={"access": "service-token", "token_type": "Bearer", "expires_in": 300},
    )
    mock.add_callback(
        responses.GET, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+\?"), projects.metadata
    )
    mock.add_callback(
        responses.GET,
        re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/revisions/[^/]+/manifest"),
        projects.manifest,
    )
    mock.add_callback(
        responses.POST, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/blobs"), projects.blobs
    )
    mock.add_callback(
        responses.PUT,
        re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/publication"),
        projects.publication,
    )
