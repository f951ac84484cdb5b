"""The commit plan: what a change set does to a tree, worked out without the database.

No test here may touch the database (none asks for `db`): the plan and the normalising
before it are pure, and these tables pin what they decide.
"""

import hashlib

import pytest

from files.models import FileChange
from files.revisions import (
    Changes,
    CommitPlan,
    FileState,
    FileTooLarge,
    Link,
    Rename,
    changes_normalise,
    commit_plan,
)
from oasis_common.errors import Conflict, NotFound, ServiceError
from oasis_common.paths import InvalidPath

CREATED, MODIFIED, DELETED = FileChange.Action.CREATED, FileChange.Action.MODIFIED, FileChange.Action.DELETED


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored(content: bytes, blob_id: int) -> FileState:
    return FileState(sha(content), len(content), blob_id)


def new(content: bytes) -> FileState:
    """A written file's state in a plan: its bytes are stored only when the plan is."""
    return FileState(sha(content), len(content))


TREE = {
    "index.html": stored(b"<h1>Home</h1>", 1),
    "css/style.css": stored(b"body {}", 2),
    "about.html": stored(b"<h1>About</h1>", 3),
}


def plan_of(tree=TREE, **changes) -> CommitPlan:
    return commit_plan(tree=tree, changes=changes_normalise(**changes))


@pytest.mark.parametrize(
    ("changes", "changed", "actions", "renamed_from"),
    [
        pytest.param(
            {"writes": {"new.html": b"<p>new</p>"}},
            {"new.html": new(b"<p>new</p>")},
            {"new.html": CREATED},
            {},
            id="add",
        ),
        pytest.param(
            {"writes": {"index.html": b"<h1>Home!</h1>"}},
            {"index.html": new(b"<h1>Home!</h1>")},
            {"index.html": MODIFIED},
            {},
            id="replace",
        ),
        pytest.param(
            {"deletes": ["about.html"]},
            {"about.html": None},
            {"about.html": DELETED},
            {},
            id="delete",
        ),
        pytest.param(
            {"renames": [Rename("css/style.css", "style.css")]},
            {"css/style.css": None, "style.css": stored(b"body {}", 2)},
            {"css/style.css": DELETED, "style.css": CREATED},
            {"style.css": "css/style.css"},
            id="rename keeps the blob",
        ),
        pytest.param(
            {"links": {"old.html": Link(blob_id=9, sha256=sha(b"old"), size=3)}},
            {"old.html": FileState(sha(b"old"), 3, 9)},
            {"old.html": CREATED},
            {},
            id="link to a stored blob",
        ),
        pytest.param(
            {"links": {"index.html": Link(blob_id=9, sha256=sha(b"old"), size=3)}},
            {"index.html": FileState(sha(b"old"), 3, 9)},
            {"index.html": MODIFIED},
            {},
            id="link over a file",
        ),
        pytest.param(
            {"writes": {"index.html": b"<h1>Home</h1>"}},
            {},
            {},
            {},
            id="writing the same bytes changes nothing",
        ),
        pytest.param(
            {"links": {"about.html": Link(blob_id=9, sha256=sha(b"<h1>About</h1>"), size=14)}},
            {},
            {},
            {},
            id="linking the same bytes changes nothing",
        ),
        pytest.param({}, {}, {}, {}, id="an empty change set changes nothing"),
        pytest.param(
            {
                "writes": [("index.html", b"v2"), ("docs/a.md", b"# A")],
                "deletes": ["about.html"],
                "renames": [Rename("css/style.css", "css/main.css")],
            },
            {
                "css/style.css": None,
                "css/main.css": stored(b"body {}", 2),
                "about.html": None,
                "index.html": new(b"v2"),
                "docs/a.md": new(b"# A"),
            },
            {
                "css/style.css": DELETED,
                "css/main.css": CREATED,
                "about.html": DELETED,
                "index.html": MODIFIED,
                "docs/a.md": CREATED,
            },
            {"css/main.css": "css/style.css"},
            id="everything at once, renames first",
        ),
        pytest.param(
            {"writes": {"css/reset.css": b"*{}"}},
            {"css/reset.css": new(b"*{}")},
            {"css/reset.css": CREATED},
            {},
            id="add beside a file in a folder",
        ),
    ],
)
def test_a_plan_says_what_changes(changes, changed, actions, renamed_from):
    plan = plan_of(**changes)

    assert plan.changed == changed
    assert list(plan.changed) == list(changed)
    assert plan.actions == actions
    assert plan.renamed_from == renamed_from


@pytest.mark.parametrize(
    ("changes", "writes", "deletes", "keeps", "tree"),
    [
        pytest.param(
            {"writes": {"new.html": b"n"}},
            ["new.html"],
            [],
            ["index.html", "css/style.css", "about.html"],
            {**TREE, "new.html": new(b"n")},
            id="add",
        ),
        pytest.param(
            {"writes": {"index.html": b"v2"}},
            ["index.html"],
            [],
            ["css/style.css", "about.html"],
            {**TREE, "index.html": new(b"v2")},
            id="replace",
        ),
        pytest.param(
            {"deletes": ["index.html", "about.html"]},
            [],
            ["index.html", "about.html"],
            ["css/style.css"],
            {"css/style.css": TREE["css/style.css"]},
            id="delete",
        ),
        pytest.param(
            {"renames": [Rename("about.html", "team/about.html")]},
            ["team/about.html"],
            ["about.html"],
            ["index.html", "css/style.css"],
            {
                "index.html": TREE["index.html"],
                "css/style.css": TREE["css/style.css"],
                "team/about.html": TREE["about.html"],
            },
            id="rename",
        ),
        pytest.param(
            {"writes": {"about.html": b"<h1>About</h1>"}},
            [],
            [],
            ["index.html", "css/style.css", "about.html"],
            TREE,
            id="no-op",
        ),
    ],
)
def test_a_plan_says_what_to_write_delete_and_keep_and_the_tree_after(changes, writes, deletes, keeps, tree):
    plan = plan_of(**changes)

    assert list(plan.writes) == writes
    assert plan.deletes == deletes
    assert plan.keeps == keeps
    assert plan.tree == tree


def test_a_plan_on_an_empty_tree_creates_every_file():
    plan = plan_of({}, writes={"a.html": b"a", "b/c.css": b"c"})

    assert plan.actions == {"a.html": CREATED, "b/c.css": CREATED}
    assert plan.tree == {"a.html": new(b"a"), "b/c.css": new(b"c")}


def test_a_plan_leaves_the_tree_it_was_given_as_it_was():
    tree = dict(TREE)

    plan_of(tree, writes={"index.html": b"v2"}, deletes=["about.html"])

    assert tree == TREE


@pytest.mark.parametrize(
    ("changes", "error", "code", "details"),
    [
        pytest.param(
            {"deletes": ["missing.html"]},
            NotFound,
            "file_not_found",
            {"paths": ["missing.html"]},
            id="deleting a missing file",
        ),
        pytest.param(
            {"renames": [Rename("missing.html", "b.html")]},
            NotFound,
            "file_not_found",
            {"paths": ["missing.html"]},
            id="renaming a missing file",
        ),
        pytest.param(
            {"deletes": ["gone.html"], "renames": [Rename("lost.html", "about.html")]},
            NotFound,
            "file_not_found",
            {"paths": ["gone.html", "lost.html"]},
            id="missing files are named before taken ones",
        ),
        pytest.param(
            {"renames": [Rename("index.html", "about.html")]},
            Conflict,
            "file_exists",
            {"paths": ["about.html"]},
            id="renaming onto a file",
        ),
        pytest.param(
            {"writes": {"css": b"x"}},
            Conflict,
            "path_conflict",
            {"paths": ["css"]},
            id="a file where a folder is",
        ),
        pytest.param(
            {"writes": {"index.html/part.html": b"x"}},
            Conflict,
            "path_conflict",
            {"paths": ["index.html"]},
            id="a folder where a file is",
        ),
        pytest.param(
            {"renames": [Rename("about.html", "css")]},
            Conflict,
            "path_conflict",
            {"paths": ["css"]},
            id="renaming onto a folder",
        ),
    ],
)
def test_a_plan_refuses_what_no_tree_could_hold(changes, error, code, details):
    with pytest.raises(error) as refused:
        plan_of(**changes)

    assert refused.value.code == code
    assert refused.value.details == details


def test_a_delete_and_a_write_in_the_folder_it_frees_is_no_conflict():
    plan = plan_of(deletes=["index.html"], writes={"index.html/part.html": b"x"})

    assert plan.actions == {"index.html": DELETED, "index.html/part.html": CREATED}


LIMITS = {"MAX_FILES_PER_PROJECT": 3, "MAX_PROJECT_BYTES": 40}


@pytest.mark.parametrize(
    ("changes", "code", "details"),
    [
        pytest.param(
            {"writes": {"four.html": b"4"}},
            "too_many_files",
            {"files": 4, "limit": 3},
            id="one file too many",
        ),
        pytest.param(
            {"writes": {"index.html": b"x" * 20}},
            "project_too_large",
            {"size": 41, "limit": 40},
            id="one byte too many",
        ),
        pytest.param(
            {"links": {"four.html": Link(blob_id=9, sha256=sha(b"4"), size=1)}},
            "too_many_files",
            {"files": 4, "limit": 3},
            id="a link counts as a file",
        ),
    ],
)
def test_a_plan_refuses_a_tree_past_the_project_limits(settings, changes, code, details):
    settings.OASIS = {**settings.OASIS, **LIMITS}

    with pytest.raises(ServiceError) as refused:
        plan_of(**changes)

    assert refused.value.status_code == 422
    assert refused.value.code == code
    assert refused.value.details == details


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"writes": {"index.html": b"x" * 19}}, id="just under the bytes"),
        pytest.param({"deletes": ["about.html"], "writes": {"four.html": b"4"}}, id="a delete makes room"),
        pytest.param({"renames": [Rename("about.html", "team.html")]}, id="a rename adds no file"),
    ],
)
def test_a_plan_at_the_project_limits_is_allowed(settings, changes):
    settings.OASIS = {**settings.OASIS, **LIMITS}

    assert plan_of(**changes).tree


@pytest.mark.parametrize(
    ("changes", "error", "code", "details"),
    [
        pytest.param(
            {"writes": [("a.html", b"1"), ("a.html", b"2")]},
            ServiceError,
            "duplicate_path",
            {"paths": ["a.html"]},
            id="a path written twice",
        ),
        pytest.param(
            {"writes": {"a.html": b"1"}, "deletes": ["a.html"]},
            ServiceError,
            "duplicate_path",
            {"paths": ["a.html"]},
            id="a path written and deleted",
        ),
        pytest.param(
            {"renames": [Rename("a.html", "b.html"), Rename("b.html", "c.html")]},
            ServiceError,
            "duplicate_path",
            {"paths": ["b.html"]},
            id="a chain of renames",
        ),
        pytest.param(
            {"writes": {"caf\u00e9.html": b"1", "cafe\u0301.html": b"2"}},
            ServiceError,
            "duplicate_path",
            {"paths": ["caf\u00e9.html"]},
            id="two spellings of one path",
        ),
        pytest.param(
            {"deletes": ["a.html", "./a.html"]},
            InvalidPath,
            "path_dot_segment",
            {"path": "./a.html"},
            id="a path that is not clean",
        ),
        pytest.param(
            {"writes": {"big.bin": b"x" * 11}},
            FileTooLarge,
            "file_too_large",
            {"path": "big.bin", "size": 11, "limit": 10},
            id="a file past the size limit",
        ),
    ],
)
def test_normalising_refuses_a_change_set_whole(settings, changes, error, code, details):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 10}

    with pytest.raises(error) as refused:
        changes_normalise(**changes)

    assert refused.value.code == code
    assert refused.value.details == details


def test_normalising_cleans_paths_and_hashes_writes():
    changes = changes_normalise(
        writes=[("cafe\u0301.html", b"x")],
        deletes=["old.html"],
        renames=[Rename("a.html", "b.html")],
        links={"l.html": Link(blob_id=1, sha256=sha(b"l"), size=1)},
    )

    assert changes == Changes(
        writes={"caf\u00e9.html": (sha(b"x"), b"x")},
        links={"l.html": Link(blob_id=1, sha256=sha(b"l"), size=1)},
        deletes=["old.html"],
        renames=[Rename("a.html", "b.html")],
        preconditions={},
    )
    assert changes.touched == ["caf\u00e9.html", "l.html", "old.html", "a.html", "b.html"]
