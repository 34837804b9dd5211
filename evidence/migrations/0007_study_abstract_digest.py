"""Study.abstract_digest: evidence summaries find their study by an index lookup.

Before, each summary scanned every abstract with ILIKE for its first eight words, so a
file of many summaries took time quadratic in the table (a 4,000-study EviDB JSON
export did not re-import in ten minutes). Existing studies get their digest here.
"""

from importlib import import_module

from django.db import migrations, models

from evidence.identifiers import abstract_digest
from evidence.models import integrity

# SQLite adds this column by rebuilding the study table (copy, drop, rename), which the
# link triggers of 0005 would break mid-way (they name evidence_study): they are taken
# off for the rebuild and put back after, as they stood at 0005.
REFERENCES = import_module("evidence.migrations.0005_link_checks_per_statement").REFERENCES


def remove_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        integrity.remove(schema_editor.connection, REFERENCES)


def install_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        integrity.ensure(schema_editor.connection, REFERENCES)


CHUNK = 2000


def fill_digests(apps, schema_editor):
    Study = apps.get_model("evidence", "Study")
    rows = Study.objects.exclude(abstract="").only("id", "abstract").order_by("id")
    batch = []
    for study in rows.iterator(chunk_size=CHUNK):
        study.abstract_digest = abstract_digest(study.abstract)
        batch.append(study)
        if len(batch) >= CHUNK:
            Study.objects.bulk_update(batch, ["abstract_digest"])
            batch = []
    Study.objects.bulk_update(batch, ["abstract_digest"])


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_study_text_lz4")]

    operations = [
        migrations.RunPython(remove_sqlite_triggers, install_sqlite_triggers),
        migrations.AddField(
            model_name="study",
            name="abstract_digest",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="study",
            index=models.Index(
                condition=~models.Q(abstract_digest=""),
                fields=["abstract_digest"],
                name="study_abstract_digest_idx",
            ),
        ),
        migrations.RunPython(install_sqlite_triggers, remove_sqlite_triggers),
    ]
