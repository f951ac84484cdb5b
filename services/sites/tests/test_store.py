"""The site store: blobs written once by hash, trees of hard links renamed in, links switched atomically."""

import gzip
import os

import pytest

from hosting.store import MTIME_BASE, FilesystemStore, StoredFile, _write_once, blob_mtime, compressible
from tests.peers import sha

CSS = b"body { margin: 0; padding: 0; }\n" * 100
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def put(store: FilesystemStore, data: bytes, content_type: str) -> str:
    digest = sha(data)
    store.blob_put(sha256=digest, data=data, content_type=content_type)
    return digest


def test_a_blob_is_stored_under_its_hash_with_an_mtime_that_is_a_function_of_it(site_store):
    digest = put(site_store, PNG, "image/png")

    path = site_store.blob_path(digest)
    assert path == site_store.root / "blobs" / digest[:2] / digest
    assert path.read_bytes() == PNG
    assert int(path.stat().st_mtime) == MTIME_BASE + int(digest[:7], 16) == blob_mtime(digest)
    assert site_store.blobs_missing([digest, "f" * 64]) == {"f" * 64}


def test_a_compressible_blob_gets_a_gzip_sibling_with_the_same_mtime(site_store):
    digest = put(site_store, CSS, "text/css")

    packed = site_store.blob_path(digest).with_name(f"{digest}.gz")
    assert gzip.decompress(packed.read_bytes()) == CSS
    assert packed.stat().st_mtime == site_store.blob_path(digest).stat().st_mtime


@pytest.mark.parametrize(
    ("content_type", "size", "expected"),
    [
        ("text/html", 2048, True),
        ("text/css; charset=utf-8", 2048, True),
        ("application/javascript", 2048, True),
        ("application/json", 2048, True),
        ("image/svg+xml", 2048, True),
        ("application/wasm", 2048, True),
        ("text/html", 1024, False),
        ("image/png", 2048, False),
        ("font/woff2", 2048, False),
        ("application/octet-stream", 2048, False),
    ],
)
def test_only_compressible_types_over_a_kibibyte_are_compressed(content_type, size, expected):
    assert compressible(content_type, size) is expected


def test_a_blob_already_stored_is_not_written_again(site_store):
    digest = put(site_store, PNG, "image/png")
    inode = site_store.blob_path(digest).stat().st_ino

    put(site_store, PNG, "image/png")

    assert site_store.blob_path(digest).stat().st_ino == inode


def test_a_deployment_is_a_tree_of_hard_links_to_the_blobs(site_store):
    css, png = put(site_store, CSS, "text/css"), put(site_store, PNG, "image/png")

    site_store.deployment_put(
        deployment_id="d1", files=[StoredFile("css/site.css", css), StoredFile("img/a.png", png)]
    )

    tree = site_store.deployment_path("d1")
    assert os.path.samefile(tree / "css/site.css", site_store.blob_path(css))
    assert os.path.samefile(tree / "css/site.css.gz", site_store.blob_path(css).with_name(f"{css}.gz"))
    assert os.path.samefile(tree / "img/a.png", site_store.blob_path(png))
    assert not (tree / "img/a.png.gz").exists()


def test_a_project_file_named_like_the_gzip_copy_wins(site_store):
    css, png = put(site_store, CSS, "text/css"), put(site_store, PNG, "application/gzip")

    site_store.deployment_put(
        deployment_id="d1", files=[StoredFile("site.css", css), StoredFile("site.css.gz", png)]
    )

    assert (site_store.deployment_path("d1") / "site.css.gz").read_bytes() == PNG


def test_a_failed_build_leaves_no_tree_behind(site_store):
    css = put(site_store, CSS, "text/css")

    with pytest.raises(FileNotFoundError):
        site_store.deployment_put(
            deployment_id="d1", files=[StoredFile("a.css", css), StoredFile("b.css", "0" * 64)]
        )

    assert list((site_store.root / "deployments").iterdir()) == []


def test_the_live_link_is_relative_and_switched_by_rename(site_store):
    site_store.deployment_put(deployment_id="d1", files=[])
    site_store.deployment_put(deployment_id="d2", files=[])

    site_store.live_point(slug="my-site", deployment_id="d1")
    site_store.live_point(slug="my-site", deployment_id="d2")

    link = site_store.live_path("my-site")
    assert os.readlink(link) == "../deployments/d2"
    assert link.resolve() == site_store.deployment_path("d2").resolve()
    assert sorted(path.name for path in link.parent.iterdir()) == ["my-site"]


def test_renaming_moves_the_live_link_and_the_takedown_marker(site_store):
    site_store.deployment_put(deployment_id="d1", files=[])
    site_store.live_point(slug="old-name", deployment_id="d1")
    site_store.disabled_mark(slug="old-name", reason="Phishing")

    site_store.live_rename(old="old-name", new="new-name")

    assert site_store.live_target("new-name") == "d1"
    assert site_store.live_target("old-name") is None
    assert site_store.is_disabled("new-name")
    assert not site_store.is_disabled("old-name")


def test_deleting_a_deployment_keeps_the_blobs_other_deployments_share(site_store):
    css = put(site_store, CSS, "text/css")
    site_store.deployment_put(deployment_id="d1", files=[StoredFile("a.css", css)])

    site_store.deployment_delete(deployment_id="d1")

    assert not site_store.deployment_path("d1").exists()
    assert site_store.blob_path(css).read_bytes() == CSS


def test_a_blob_written_meanwhile_by_another_publish_is_kept_not_replaced(site_store):
    # Replacing it would orphan the inode another publish is hard-linking at that moment.
    digest = sha(PNG)
    target = site_store.blob_path(digest)
    target.parent.mkdir(parents=True)
    _write_once(target, PNG, blob_mtime(digest))
    inode = target.stat().st_ino

    _write_once(target, PNG, blob_mtime(digest))

    assert target.stat().st_ino == inode
    assert sorted(path.name for path in target.parent.iterdir()) == [digest]


def test_a_verified_host_is_known_to_the_gateway_whatever_its_sites_state(site_store):
    site_store.host_point(hostname="www.example.org", slug="my-site")
    root = site_store.root

    known = (root / "domains" / "www.example.org").read_text()
    live_link = os.readlink(root / "hosts" / "www.example.org")
    takedown_link = os.readlink(root / "domain-takedowns" / "www.example.org")
    taken_down_before = os.path.exists(root / "domain-takedowns" / "www.example.org")
    site_store.disabled_mark(slug="my-site", reason="Phishing")
    taken_down_after = os.path.exists(root / "domain-takedowns" / "www.example.org")
    complete = site_store.host_is_complete(hostname="www.example.org", slug="my-site")
    site_store.host_remove(hostname="www.example.org")

    assert known == "my-site"
    assert live_link == "../live/my-site"
    assert takedown_link == "../disabled/my-site"
    assert (taken_down_before, taken_down_after) == (False, True)
    assert complete
    assert not any(
        os.path.lexists(root / folder / "www.example.org")
        for folder in ("domains", "hosts", "domain-takedowns")
    )
