"""The committed openapi.yaml matches what the code generates (regenerate with `make openapi`)."""

from pathlib import Path

from django.core.management import call_command
from rest_framework import serializers

from files.serializers import SnapshotSerializer

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.yaml"


def generated_schema(folder: Path) -> str:
    generated = folder / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))
    return generated.read_text()


def test_the_committed_schema_matches_the_code(tmp_path):
    assert generated_schema(tmp_path) == COMMITTED.read_text(), "openapi.yaml is stale: run `make openapi`"


def test_an_undocumented_change_to_a_response_fails_the_check(tmp_path, monkeypatch):
    monkeypatch.setitem(SnapshotSerializer._declared_fields, "undocumented", serializers.CharField())

    generated = generated_schema(tmp_path)

    assert generated != COMMITTED.read_text()
    assert "undocumented" in generated
