"""What a finished run tells its client of publication: the project's sites, and whether its revision is live.

Projects keeps a copy of what the sites service says each site serves, and hands it to
the builder in the answers it already gives (the snapshot a run starts from, the landing
of its revision); the builder never asks sites. A revision a build just landed is never
live yet: the client offers to publish it.
"""

from __future__ import annotations


def publication_summary(*, publication: dict | None, revision: int | None) -> dict:
    """Projects' `publication`, the newest revision a live site serves, and whether `revision` is live."""
    sites = list((publication or {}).get("sites") or [])
    live = {
        site["live_revision"]
        for site in sites
        if site.get("status") == "live" and site.get("live_revision") is not None
    }
    return {
        "publication": {"sites": sites},
        "published_revision": max(live, default=None),
        "revision_is_live": revision is not None and revision in live,
    }
