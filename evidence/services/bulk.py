"""Row-level bulk writes for imports, below the ORM on purpose.

A baseline-like PubMed record becomes ~80 rows (authorships, MeSH headings, works,
citations...). Building a model instance per row and letting ``bulk_create`` render it
costs more than parsing the record, so imports write plain tuples: PostgreSQL through
``COPY FROM STDIN`` (psycopg 3), SQLite through ``executemany``. Primary keys are
allocated up front so parent and child rows go out in one pass each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


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
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table(model), pk_column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{pk_column}"), 0) FROM "{table(model)}"')
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain tuples into ``model``'s table; JSON columns take JSON text."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    columns = column_names(model, fields)
    quoted = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor beneath Django's wrapper
            with raw.copy(f'COPY "{table(model)}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f'INSERT INTO "{table(model)}" ({quoted}) VALUES ({placeholders})', rows
            )
    return len(rows)


def update_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Set ``fields`` on many rows by primary key; each row is (*values, pk).

    One statement run with many parameter sets: psycopg pipelines it on PostgreSQL,
    SQLite runs it in process, instead of an UPDATE round trip per row.
    """
    if not rows:
        return 0
    assignments = ", ".join(f'"{column}" = %s' for column in column_names(model, fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f'UPDATE "{table(model)}" SET {assignments} WHERE "{model._meta.pk.column}" = %s',
            rows,
        )
    return len(rows)


def select_in(
    model: type[Model], field: str, values: Sequence, columns: Sequence[str]
) -> list[tuple]:
    """Rows of ``model`` whose ``field`` is one of ``values``, as tuples of ``columns``.

    PostgreSQL gets one array parameter (``= ANY(%s)``): a batch looks up tens of
    thousands of reference identifiers, and an IN list of that size costs more to
    render client-side than to run. SQLite gets IN lists under its parameter cap.
    """
    if not values:
        return []
    selected = ", ".join(f'"{name}"' for name in column_names(model, columns))
    where = column_names(model, [field])[0]
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'SELECT {selected} FROM "{table(model)}" WHERE "{where}" = ANY(%s)',
                [list(values)],
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


def chunked(values: Sequence, size: int = 900) -> Iterable[Sequence]:
    """SQLite caps bound parameters per statement; keep IN lists under it."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
