"""Stand-ins for what crosses the builder's boundary: auth, projects and payments over HTTP.

They speak the peers' real internal API (paths, bodies, status codes, error envelope),
registered with `responses`, so the builder's own client code runs unchanged. The model
is not faked: tests use the real demo model server (see `demo_model` in conftest).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field

import requests
import responses

PROJECTS = "http://projects.test"
PAYMENTS = "http://payments.test"
AUTH = "http://auth.test"


def _error(status: int, code: str, message: str = "", details: dict | None = None):
    body = {"error": {"code": code, "message": message or code, "details": details or {}, "request_id": ""}}
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _ok(status: int, body: dict):
    return status, {"Content-Type": "application/json"}, json.dumps(body)


@dataclass
class FakeProject:
    owner_id: str
    revision: int = 0
    files: dict[str, str] = field(default_factory=dict)
    # path -> revision that last changed it
    changed_at: dict[str, int] = field(default_factory=dict)
    history: dict[int, dict[str, str]] = field(default_factory=dict)
    # The project's sites, as the sites service last told projects.
    sites: list[dict] = field(default_factory=list)

    def record(self) -> None:
        self.history[self.revision] = dict(self.files)


class FakeProjects:
    def __init__(self) -> None:
        self.projects: dict[str, FakeProject] = {}
        self.applied: list[dict] = []
        self.restored: list[dict] = []
        self.by_generation: dict[str, dict] = {}
        self.snapshot_request_ids: list[str | None] = []  # each snapshot asked for, by its X-Request-ID
        self.lock = threading.Lock()
        # Landing faults, one a call: "down" answers 503 and commits nothing; "lost" commits and
        # then answers 503, as when projects dies right after its commit.
        self.landing_faults: list[str] = []

    def add(self, owner_id, files: dict[str, str] | None = None) -> str:
        project_id = str(uuid.uuid4())
        project = FakeProject(owner_id=str(owner_id))
        project.record()
        if files:
            project.revision = 1
            project.files = dict(files)
            project.changed_at = dict.fromkeys(files, 1)
        project.record()
        self.projects[project_id] = project
        return project_id

    def publish(self, project_id: str, *, revision: int, status: str = "live") -> dict:
        """A site of the project serves `revision` (as sites told projects)."""
        site = {
            "id": str(uuid.uuid4()),
            "slug": "bakery",
            "url": "https://bakery.sites.example.com/",
            "live_revision": revision if status == "live" else None,
            "status": status,
        }
        self.projects[project_id].sites.append(site)
        return site

    def user_writes(self, project_id: str, path: str, text: str) -> None:
        """The user changes a file meanwhile (through the public API)."""
        project = self.projects[project_id]
        project.revision += 1
        project.files[path] = text
        project.changed_at[path] = project.revision
        project.record()

    def _owned(self, request, project_id):
        owner = request.params.get("owner_id") or json.loads(request.body or b"{}").get("owner_id")
        project = self.projects.get(project_id)
        if project is None or project.owner_id != owner:
            return None
        return project

    def metadata(self, request):
        project_id = request.path_url.split("/")[4].split("?")[0]
        project = self._owned(request, project_id)
        if project is None:
            return _error(404, "not_found")
        size = sum(len(text.encode()) for text in project.files.values())
        return _ok(
            200,
            {
                "id": project_id,
                "owner_id": project.owner_id,
                "current_revision": project.revision,
                "file_count": len(project.files),
                "size": size,
            },
        )

    def snapshot(self, request):
        self.snapshot_request_ids.append(request.headers.get("X-Request-ID"))
        project_id = request.path_url.split("/")[4]
        project = self._owned(request, project_id)
        if project is None:
            return _error(404, "not_found")
        revision = int(request.params.get("revision", project.revision))
        if revision not in project.history:
            return _error(404, "revision_not_found")
        files = [
            {
                "path": path,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "size": len(text.encode()),
                "content_type": "text/html",
                "is_text": True,
                "content": text,
            }
            for path, text in sorted(project.history[revision].items())
        ]
        return _ok(
            200,
            {
                "project_id": project_id,
                "revision": revision,
                "files": files,
                "publication": {"sites": project.sites},
            },
        )

    def changes(self, request):
        fault = self.landing_faults.pop(0) if self.landing_faults else None
        if fault == "down":
            return _error(503, "service_unavailable")
        answer = self._changes(request)
        return _error(503, "service_unavailable") if fault == "lost" else answer

    def _changes(self, request):
        project_id, body = request.path_url.split("/")[4], json.loads(request.body)
        with self.lock:
            project = self._owned(request, project_id)
            if project is None:
                return _error(404, "not_found")
            if body["generation_id"] in self.by_generation:
                return _ok(
                    200,
                    {**self.by_generation[body["generation_id"]], "publication": {"sites": project.sites}},
                )
            touched = [w["path"] for w in body.get("writes", [])] + body.get("deletes", [])
            touched += [p for r in body.get("renames", []) for p in (r["from"], r["to"])]
            stale = sorted(p for p in touched if project.changed_at.get(p, 0) > body["base_revision"])
            if stale:
                return _error(409, "stale_base_revision", "changed", {"paths": stale})
            project.revision += 1
            for write in body.get("writes", []):
                project.files[write["path"]] = write["text"]
                project.changed_at[write["path"]] = project.revision
            for path in body.get("deletes", []):
                project.files.pop(path, None)
                project.changed_at[path] = project.revision
            for rename in body.get("renames", []):
                project.files[rename["to"]] = project.files.pop(rename["from"])
            project.record()
            revision = {"number": project.revision, "message": body["message"]}
            self.applied.append({"project_id": project_id, **body})
            self.by_generation[body["generation_id"]] = revision
            return _ok(201, {**revision, "publication": {"sites": project.sites}})

    def restore(self, request):
        """A new revision equal to an earlier one (none when the files already are those), as projects."""
        project_id, body = request.path_url.split("/")[4], json.loads(request.body)
        with self.lock:
            project = self._owned(request, project_id)
            if project is None:
                return _error(404, "not_found")
            target = project.history.get(body["revision"])
            if target is None:
                return _error(404, "revision_not_found")
            if target != project.files:
                project.revision += 1
                for path in set(project.files) | set(target):
                    if project.files.get(path) != target.get(path):
                        project.changed_at[path] = project.revision
                project.files = dict(target)
                project.record()
                self.restored.append({"project_id": project_id, **body})
                status = 201
            else:
                status = 200
            return _ok(
                status,
                {
                    "number": project.revision,
                    "message": body["message"],
                    "publication": {"sites": project.sites},
                },
            )


class FakePayments:
    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.holds: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.down = False
        # Settlements refused with 503 before payments answers again (a restart, say).
        self.settle_refusals = 0
        # Hold requests that never reach payments (a dropped connection), and holds made whose
        # answers never reach the builder (a read that timed out).
        self.requests_lost = 0
        self.answers_lost = 0
        # Answers by Idempotency-Key: the same request again gets the same answer, as at payments.
        self.answered: dict[str, tuple] = {}

    def available(self, user_id) -> int:
        user_id = str(user_id)
        held = sum(
            h["amount"] for h in self.holds.values() if h["user_id"] == user_id and h["status"] == "open"
        )
        return self.balances.get(user_id, 2000) - held

    def hold_for(self, generation_id) -> dict:
        return next(h for h in self.holds.values() if h["generation_id"] == str(generation_id))

    def create(self, request):
        if self.down:
            return 503, {}, ""
        key = request.headers["Idempotency-Key"]
        with self.lock:
            if self.requests_lost:
                self.requests_lost -= 1
                raise requests.ConnectionError("connection reset")
            if key not in self.answered:
                self.answered[key] = self._hold(json.loads(request.body))
            if self.answers_lost:
                self.answers_lost -= 1
                raise requests.ReadTimeout("read timed out")
            return self.answered[key]

    def _hold(self, body: dict) -> tuple:
        """A new hold, or the refusal for want of credits; the caller holds the lock."""
        available = self.available(body["user_id"])
        if body["amount"] > available:
            return _error(
                402, "insufficient_credits", details={"available": available, "requested": body["amount"]}
            )
        hold_id = str(uuid.uuid4())
        self.holds[hold_id] = {
            "hold_id": hold_id,
            "user_id": body["user_id"],
            "amount": body["amount"],
            "status": "open",
            "captured_amount": None,
            "generation_id": body["generation_id"],
            "ttl_seconds": body.get("ttl_seconds"),
        }
        return _ok(201, self.holds[hold_id])

    def settle(self, request):
        if self.down:
            return 503, {}, ""
        with self.lock:
            if self.settle_refusals:
                self.settle_refusals -= 1
                return 503, {}, ""
        parts = request.path_url.split("/")
        hold_id, action = parts[4], parts[5]
        with self.lock:
            hold = self.holds.get(hold_id)
            if hold is None:
                return _error(404, "not_found")
            if hold["status"] != "open":
                return _error(409, "hold_not_open", details={"status": hold["status"]})
            if action == "capture":
                amount = json.loads(request.body)["amount"]
                if amount > hold["amount"]:
                    return _error(422, "capture_exceeds_hold")
                hold["status"], hold["captured_amount"] = "captured", amount
                self.balances[hold["user_id"]] = self.balances.get(hold["user_id"], 2000) - amount
            else:
                hold["status"] = "released"
            return _ok(200, hold)


def install(mock: responses.RequestsMock, projects: FakeProjects, payments: FakePayments) -> None:
    mock.add(
        responses.POST,
        f"{AUTH}/internal/v1/service-token",
        json={"access": "service-token", "token_type": "Bearer", "expires_in": 300},
    )
    mock.add_callback(
        responses.GET, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+\?"), projects.metadata
    )
    mock.add_callback(
        responses.GET, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/snapshot"), projects.snapshot
    )
    mock.add_callback(
        responses.POST, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/changes"), projects.changes
    )
    mock.add_callback(
        responses.POST, re.compile(rf"{PROJECTS}/internal/v1/projects/[^/]+/restore"), projects.restore
    )
    mock.add_callback(responses.POST, f"{PAYMENTS}/internal/v1/holds", payments.create)
    mock.add_callback(
        responses.POST, re.compile(rf"{PAYMENTS}/internal/v1/holds/[^/]+/(capture|release)"), payments.settle
    )
