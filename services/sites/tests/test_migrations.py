"""The models and the committed migrations agree."""

import io

from django.core.management import call_command


def test_no_model_change_is_missing_a_migration(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())
