"""Compress the study's long texts with lz4 instead of pglz on PostgreSQL.

An imported abstract, its sections and the search document together exceed the 2 kB at
which PostgreSQL compresses a row; pglz compression was ~3 % of the server's work per
imported study, and lz4 compresses several times faster. Only new values are affected.
A server built without lz4 keeps pglz.
"""

from django.db import migrations

COLUMNS = ("abstract", "abstract_sections", "search_document")


def use_lz4(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alter = ", ".join(f'ALTER COLUMN "{name}" SET COMPRESSION lz4' for name in COLUMNS)
    schema_editor.execute(
        "DO $$ BEGIN "
        f'ALTER TABLE "evidence_study" {alter}; '
        "EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
    )


def use_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alter = ", ".join(f'ALTER COLUMN "{name}" SET COMPRESSION default' for name in COLUMNS)
    schema_editor.execute(f'ALTER TABLE "evidence_study" {alter}')


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0005_link_checks_per_statement"),
    ]

    operations = [migrations.RunPython(use_lz4, use_default)]
