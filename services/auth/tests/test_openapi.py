"""The committed openapi.yaml (public) and openapi-internal.yaml match the code (`make openapi`)."""

from rest_framework import serializers

from oasis_common.testing import (
    committed_schema,
    documented_paths,
    generated_schema,
    internal_routes,
    list_operations,
    lists_without_orderings,
)
from tokens.serializers import TokenPairSerializer


def test_the_committed_schema_matches_the_code(tmp_path):
    assert generated_schema(tmp_path) == committed_schema(), "openapi.yaml is stale: run `make openapi`"


def test_the_committed_internal_schema_matches_the_code(tmp_path):
    assert generated_schema(tmp_path, internal=True) == committed_schema(internal=True), (
        "openapi-internal.yaml is stale: run `make openapi`"
    )


def test_the_public_schema_is_the_public_api_only():
    assert all(path.startswith("/api/") for path in documented_paths(committed_schema()))


def test_every_internal_route_is_in_the_internal_schema_and_nothing_else_is():
    documented = documented_paths(committed_schema(internal=True))

    assert internal_routes() <= documented
    assert all(path.startswith("/internal/") for path in documented)


def test_every_list_documents_the_orderings_it_accepts():
    assert list_operations(committed_schema())
    assert lists_without_orderings(committed_schema()) == []


def test_an_undocumented_change_to_a_response_fails_the_check(tmp_path, monkeypatch):
    monkeypatch.setitem(TokenPairSerializer._declared_fields, "undocumented", serializers.CharField())

    generated = generated_schema(tmp_path)

    assert generated != committed_schema()
    assert "undocumented" in generated
