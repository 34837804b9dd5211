"""Row-level bulk writes for imports, below the ORM on purpose.

A baseline-like PubMed record becomes ~80 rows (authorships, MeSH headings, works,
citations...). Building a model instance per row and letting ``bulk_create`` render it
costs more than parsing the record, so imports write plain tuples: PostgreSQL through
``COPY FROM STDIN`` (psycopg 3), SQLite through ``executemany``. Primary keys are
allocated up front so parent and child rows go out in one pass each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import orjson
from django.db import connection
from django.db.models import Model
from psycopg.copy import QueuedLibpqWriter


def table(model: type[Model]) -> str:
    return model._meta.db_table


def column_names(model: type[Model], fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys for rows inserted with explicit ids.

    PostgreSQL draws them from the table's sequence, so concurrent writers never
    collide. SQLite has one writer at a time (the import transaction is IMMEDIATE), so
    the next ids after the current maximum are free until it commits.
    """
    if count == 0:
        return []
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is looked up once, not once per id (a catalog lookup each).
            cursor.execute(
                "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)"
                "::regclass AS id) SELECT nextval(sequence.id) FROM sequence, "
                "generate_series(1, %s)",
                [table(model), pk_column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{pk_column}"), 0) FROM "{table(model)}"')
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    during: Callable[[], object] | None = None,
) -> int:
    """Insert plain tuples into ``model``'s table; JSON columns take JSON text.

    ``during``, when given, runs once the rows are on their way and before the insert
    is waited for: on PostgreSQL a worker thread streams them while the server inserts
    them, so Python work that needs no query (``during`` must make none: the connection
    is busy) overlaps the server's. SQLite inserts first, then runs it.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        if during is not None:
            during()
        return 0
    columns = column_names(model, fields)
    quoted = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor beneath Django's wrapper
            # The queued writer sends from its own thread, so write_row returns at once
            # and ``during`` starts while the server is still inserting.
            writer = QueuedLibpqWriter(raw) if during is not None else None
            with raw.copy(f'COPY "{table(model)}" ({quoted}) FROM STDIN', writer=writer) as copy:
                for row in rows:
                    copy.write_row(row)
                if during is not None:
                    during()
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f'INSERT INTO "{table(model)}" ({quoted}) VALUES ({placeholders})', rows
            )
            if during is not None:
                during()
    return len(rows)


def insert_missing(model: type[Model], rows: Sequence[dict[str, object]]) -> None:
    """Insert ``rows`` (field name -> value) that no unique constraint already holds.

    For vocabularies (authors, MeSH descriptors...) that concurrent imports may create
    at the same moment: a row that exists already is skipped, never an error. Fields a
    row leaves out take their model default. Plain SQL, not ``bulk_create``: building a
    model instance per row cost more than the insert for a batch's ~6,000 authors.
    """
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = [(field.name, field.column, field.get_default()) for field in fields]
    columns = ", ".join(f'"{column}"' for _, column, _ in defaults)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One JSON parameter unpacked into the table's own row type by the server.
            payload = [
                {column: row.get(name, default) for name, column, default in defaults}
                for row in rows
            ]
            cursor.execute(
                f'INSERT INTO "{table(model)}" ({columns}) SELECT {columns} FROM '
                f'json_populate_recordset(NULL::"{table(model)}", %s::json) '
                "ON CONFLICT DO NOTHING",
                [orjson.dumps(payload).decode()],
            )
        else:
            placeholders = ", ".join(["%s"] * len(defaults))
            cursor.executemany(
                f'INSERT OR IGNORE INTO "{table(model)}" ({columns}) VALUES ({placeholders})',
                [tuple(row.get(name, default) for name, _, default in defaults) for row in rows],
            )


def update_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Set ``fields`` on many rows by primary key; each row is (*values, pk).

    PostgreSQL gets one UPDATE joined to the rows as one JSON parameter, unpacked into
    the table's own row type: run as one statement per row, even pipelined, a batch's
    thousands of updates cost ~0.17 ms each. SQLite runs one statement per row in
    process, instead of a round trip per row.
    """
    if not rows:
        return 0
    columns = column_names(model, fields)
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [*columns, pk_column]
            payload = [dict(zip(names, row, strict=True)) for row in rows]
            assignments = ", ".join(f'"{column}" = v."{column}"' for column in columns)
            cursor.execute(
                f'UPDATE "{table(model)}" AS t SET {assignments} FROM '
                f'json_populate_recordset(NULL::"{table(model)}", %s::json) AS v '
                f'WHERE t."{pk_column}" = v."{pk_column}"',
                [orjson.dumps(payload).decode()],
            )
        else:
            assignments = ", ".join(f'"{column}" = %s' for column in columns)
            cursor.executemany(
                f'UPDATE "{table(model)}" SET {assignments} WHERE "{pk_column}" = %s', rows
            )
    return len(rows)


def select_in(
    model: type[Model], field: str, values: Sequence, columns: Sequence[str]
) -> list[tuple]:
    """Rows of ``model`` whose ``field`` is one of ``values``, as tuples of ``columns``.

    PostgreSQL gets the values as one array (``= ANY(...)``): a batch looks up tens of
    thousands of reference identifiers, and an IN list of that size costs more to
    render than to run. SQLite gets IN lists under its parameter cap.
    """
    if not values:
        return []
    selected = ", ".join(f'"{name}"' for name in column_names(model, columns))
    model_field = model._meta.get_field(field)
    where = model_field.column
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The values travel as one array literal, built here: psycopg's list
            # adapter renders arrays element by element in Python, which cost more
            # than the lookup itself for a batch's ~15,000 DOIs. A literal (not an
            # ARRAY(subquery)) is a constant the planner can count and hash: an
            # InitPlan's array was estimated at 100 values and matched linearly, so a
            # seq scan on a table whose statistics lagged (authors, mid-import) cost
            # rows x values comparisons, growing with the table.
            # text, not varchar(n): an explicit cast to varchar(n) truncates silently.
            textual = model_field.get_internal_type() in {"CharField", "TextField"}
            cast = "text" if textual else model_field.db_type(connection)
            cursor.execute(
                f'SELECT {selected} FROM "{table(model)}" WHERE "{where}" = ANY(%s::{cast}[])',
                [array_literal(values, textual=textual)],
            )
            return cursor.fetchall()
        for chunk in chunked(values):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f'SELECT {selected} FROM "{table(model)}" WHERE "{where}" IN ({placeholders})',
                list(chunk),
            )
            rows.extend(cursor.fetchall())
    return rows


def array_literal(values: Iterable, *, textual: bool) -> str:
    """A PostgreSQL array literal of ``values`` (text quoted, numbers as written)."""
    values = list(values)
    if not values:
        return "{}"
    if not textual:
        return "{" + ",".join(map(str, map(int, values))) + "}"
    return (
        '{"'
        + '","'.join(
            value.replace("\\", "\\\\").replace('"', '\\"')
            if ("\\" in value or '"' in value)
            else value
            for value in values
        )
        + '"}'
    )


def chunked(values: Sequence, size: int = 900) -> Iterable[Sequence]:
    """SQLite caps bound parameters per statement; keep IN lists under it."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
