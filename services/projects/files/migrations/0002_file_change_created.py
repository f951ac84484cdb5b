"""A file that a revision brings into the tree is `created`, the word the builder's file events use.

Stored changes said `added`; they are renamed in place, one UPDATE, and back on reversal.
"""

from django.db import migrations, models


def _rename(old: str, new: str):
    def rename(apps, schema_editor):
        FileChange = apps.get_model("files", "FileChange")
        FileChange.objects.filter(action=old).update(action=new)

    return rename


class Migration(migrations.Migration):

    dependencies = [
        ("files", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="filechange",
            name="action",
            field=models.CharField(
                choices=[("created", "Created"), ("modified", "Modified"), ("deleted", "Deleted")],
                max_length=10,
            ),
        ),
        migrations.RunPython(_rename("added", "created"), _rename("created", "added")),
    ]
