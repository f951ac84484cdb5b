"""The committed openapi.yaml matches what the code generates (regenerate with `make openapi`)."""

from rest_framework import serializers

from files.serializers import SnapshotSerializer
from oasis_common.testing import committed_schema, generated_schema


def test_the_committed_schema_matches_the_code(tmp_path):
    assert generated_schema(tmp_path) == committed_schema(), "openapi.yaml is stale: run `make openapi`"


def test_an_undocumented_change_to_a_response_fails_the_check(tmp_path, monkeypatch):
    monkeypatch.setitem(SnapshotSerializer._declared_fields, "undocumented", serializers.CharField())

    generated = generated_schema(tmp_path)

    assert generated != committed_schema()
    assert "undocumented" in generated
