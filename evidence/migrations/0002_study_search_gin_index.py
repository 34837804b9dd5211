"""Full-text search index for PostgreSQL; SQLite has no tsvector and searches by LIKE.

The expression must stay identical to ``evidence.search.SEARCH_VECTOR_SQL`` so the
planner uses the index for ``q=`` searches.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS study_search_gin_idx ON evidence_study "
    "USING gin (to_tsvector('english'::regconfig, search_document))"
)
DROP = "DROP INDEX IF EXISTS study_search_gin_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
