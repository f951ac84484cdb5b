"""How long the projects service takes to commit, list, diff, snapshot and export a large project.

Runs the domain functions against a throwaway test database (SQLite, or PostgreSQL when
OASIS_TEST_DATABASE_URL is set) and prints the median time of each step:

    .venv/bin/python bench/projects_tree.py --files 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "services" / "projects"
sys.path.insert(0, str(SERVICE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402


def timed(rounds: int, action) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    from files.history import revision_diff
    from files.revisions import revision_commit
    from files.snapshots import snapshot_take
    from files.trees import tree_read
    from projects.archives import archive_stream
    from projects.lifecycle import project_create
    from projects.models import Project

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        owner = uuid.uuid4()
        project = project_create(owner_id=owner, name="bench")
        pages = {
            f"pages/{index:05}.html": f"<p>page {index}</p>\n".encode() * 20 for index in range(options.files)
        }

        started = time.perf_counter()
        revision_commit(project_id=project.pk, owner_id=owner, author_user_id=owner, writes=pages)
        first_commit = time.perf_counter() - started

        def edit_one():
            revision_commit(
                project_id=project.pk,
                owner_id=owner,
                author_user_id=owner,
                writes={"pages/00007.html": uuid.uuid4().bytes},
            )

        results = {
            f"commit {options.files} new files": first_commit,
            "commit one changed file": timed(options.rounds, edit_one),
        }
        project = Project.objects.get(pk=project.pk)
        results.update(
            {
                "list the current tree": timed(options.rounds, lambda: tree_read(project=project)),
                "list revision 1's tree": timed(
                    options.rounds, lambda: tree_read(project=project, revision=1)
                ),
                "diff revision 1 to now": timed(
                    options.rounds, lambda: revision_diff(project=project, old=1, new=None)
                ),
                "snapshot, 2 MiB budget": timed(
                    options.rounds,
                    lambda: snapshot_take(project=project, revision=None, budget=2 * 1024 * 1024),
                ),
                "export a zip": timed(options.rounds, lambda: b"".join(archive_stream(project=project))),
            }
        )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)

    print(f"{connection.vendor}, {options.files} files, median of {options.rounds} rounds")
    for step, seconds in results.items():
        print(f"  {step:<32} {seconds * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
