"""Foreign keys of the high-volume link tables, checked once per statement.

A PostgreSQL foreign key is checked row by row: each inserted citation runs two lookup
queries of its own (executor start-up, lock, index scan) at the end of the statement.
An imported study brings ~30 citations, ~6 authorships and ~10 MeSH headings, so these
row checks were a third of the server's work per imported record. The same guarantee
costs far less as one set-based query per statement, so these link tables declare their
foreign keys with ``db_constraint=False`` and the triggers defined here enforce them:

- on PostgreSQL, statement-level triggers with transition tables. Inserting or updating
  link rows locks the rows they reference ``FOR KEY SHARE``, as a foreign key does, so a
  concurrent delete waits and then finds the new links; deleting a referenced row fails
  while a link still points at it; changing a referenced id fails;
- on SQLite, row triggers for the first and last rules. Deleting a referenced row is
  left to the ORM's cascades there: SQLite's triggers cannot wait for the end of a
  transaction, and Django empties test databases table by table in no set order, which
  a foreign key tolerates (it is deferred) but an immediate trigger would refuse.

Unlike Django's foreign keys, which are deferred to commit, these checks run at the end
of each statement, so a link must be written after what it references (the importers,
the ORM's cascades and ``loaddata`` of the project's fixtures all do).

``ensure(connection)`` installs them idempotently; a migration calls it, and so does
``post_migrate`` after every migrate, because SQLite drops a table's triggers whenever
a migration rebuilds that table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Reference:
    """``table.column`` holds an id of ``target`` (its ``id`` column)."""

    table: str
    column: str
    target: str


# Every ForeignKey declared with db_constraint=False; tests hold this list equal to
# the models, so a new unconstrained key cannot go unchecked.
REFERENCES: tuple[Reference, ...] = (
    Reference("evidence_citation", "citing_id", "evidence_work"),
    Reference("evidence_citation", "cited_id", "evidence_work"),
    Reference("evidence_authorship", "study_id", "evidence_study"),
    Reference("evidence_authorship", "author_id", "evidence_author"),
    Reference("evidence_studymeshheading", "study_id", "evidence_study"),
    Reference("evidence_studymeshheading", "descriptor_id", "evidence_meshdescriptor"),
)

_PREFIX = "evidb_ref"


def ensure(connection: BaseDatabaseWrapper, references: tuple[Reference, ...] = REFERENCES) -> None:
    """Install (or replace) the triggers enforcing ``references``.

    Nothing is installed while a table they name does not exist (a database migrated
    backwards); the migration that creates it installs them.
    """
    tables = {r.table for r in references} | {r.target for r in references}
    if not tables <= set(connection.introspection.table_names()):
        return
    statements = (
        _postgresql(references) if connection.vendor == "postgresql" else _sqlite(references)
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def remove(connection: BaseDatabaseWrapper, references: tuple[Reference, ...] = REFERENCES) -> None:
    """Drop the triggers (and PostgreSQL functions) that ``ensure`` installed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in sorted({r.table for r in references} | {r.target for r in references}):
                for suffix in ("links", "referenced", "id_fixed"):
                    cursor.execute(
                        f'DROP FUNCTION IF EXISTS "{_PREFIX}_{table}_{suffix}"() CASCADE'
                    )
        else:
            for name in _sqlite_trigger_names(references):
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def _grouped(references: tuple[Reference, ...], by: str) -> dict[str, list[Reference]]:
    """The references by their ``table`` or their ``target``, in order."""
    grouped: dict[str, list[Reference]] = defaultdict(list)
    for reference in references:
        grouped[getattr(reference, by)].append(reference)
    return grouped


def _raise(message_sql: str, detail_sql: str) -> str:
    return (
        "RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
        f"MESSAGE = {message_sql}, DETAIL = {detail_sql};"
    )


def _postgresql(references: tuple[Reference, ...]) -> list[str]:
    statements: list[str] = []
    for table, refs in _grouped(references, "table").items():
        body = []
        for ref in refs:
            # One statement locks what the new rows reference and counts it; an id is
            # missing when fewer rows come back than distinct ids went in (a row deleted
            # concurrently is skipped by the lock). ``= ANY(array)`` keeps this an index
            # lookup however large the target table grows.
            body.append(
                f'ids := ARRAY(SELECT DISTINCT "{ref.column}" FROM new_rows '
                f'WHERE "{ref.column}" IS NOT NULL);'
            )
            body.append(
                "SELECT count(*) INTO found FROM "
                f'(SELECT 1 FROM "{ref.target}" t WHERE t.id = ANY(ids) FOR KEY SHARE OF t) x;'
            )
            body.append(
                "IF found < cardinality(ids) THEN "
                f"SELECT u INTO missing FROM unnest(ids) u WHERE NOT EXISTS "
                f'(SELECT 1 FROM "{ref.target}" t WHERE t.id = u) LIMIT 1; '
                + _raise(
                    f'\'insert or update on table "{table}" violates its reference '
                    f'"{ref.column}" to "{ref.target}"\'',
                    f"format('Key ({ref.column})=(%s) is not present in table \"{ref.target}\".', "
                    "missing)",
                )
                + " END IF;"
            )
        function = f"{_PREFIX}_{table}_links"
        statements.append(
            _plpgsql(function, "DECLARE ids bigint[]; found bigint; missing bigint;", body)
        )
        for event in ("INSERT", "UPDATE"):
            statements.append(
                f'CREATE OR REPLACE TRIGGER "{function}_{event.lower()}" AFTER {event} '
                f'ON "{table}" REFERENCING NEW TABLE AS new_rows '
                f'FOR EACH STATEMENT EXECUTE FUNCTION "{function}"()'
            )
    for target, refs in _grouped(references, "target").items():
        body = []
        for ref in refs:
            body.append(
                f'SELECT l."{ref.column}" INTO still FROM "{ref.table}" l '
                f'WHERE l."{ref.column}" = ANY(ARRAY(SELECT id FROM old_rows)) LIMIT 1;'
            )
            body.append(
                "IF FOUND THEN "
                + _raise(
                    f'\'delete on table "{target}" violates the reference '
                    f'"{ref.column}" of "{ref.table}"\'',
                    f"format('Key (id)=(%s) is still referenced from table \"{ref.table}\".', "
                    "still)",
                )
                + " END IF;"
            )
        function = f"{_PREFIX}_{target}_referenced"
        statements.append(_plpgsql(function, "DECLARE still bigint;", body))
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{function}" AFTER DELETE ON "{target}" '
            "REFERENCING OLD TABLE AS old_rows "
            f'FOR EACH STATEMENT EXECUTE FUNCTION "{function}"()'
        )
        fixed = f"{_PREFIX}_{target}_id_fixed"
        statements.append(
            _plpgsql(
                fixed,
                "",
                [
                    _raise(
                        f'\'the id of a row of "{target}" cannot change while links may '
                        "point at it'",
                        "format('Key (id)=(%s) would become (%s).', OLD.id, NEW.id)",
                    )
                ],
            )
        )
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{fixed}" BEFORE UPDATE OF id ON "{target}" '
            f'FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION "{fixed}"()'
        )
    return statements


def _plpgsql(name: str, declare: str, body: list[str]) -> str:
    lines = "\n  ".join(body)
    return (
        f'CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger LANGUAGE plpgsql AS $$\n'
        f"{declare}\nBEGIN\n  {lines}\n  RETURN NULL;\nEND\n$$"
    )


def _sqlite_trigger_names(references: tuple[Reference, ...]) -> list[str]:
    names = []
    for ref in references:
        for event in ("insert", "update"):
            names.append(f"{_PREFIX}_{ref.table}_{ref.column}_{event}")
    names += [f"{_PREFIX}_{target}_id_fixed" for target in _grouped(references, "target")]
    return names


def _sqlite(references: tuple[Reference, ...]) -> list[str]:
    statements = []
    for ref in references:
        missing = (
            f'NEW."{ref.column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{ref.target}" WHERE id = NEW."{ref.column}")'
        )
        message = f"FOREIGN KEY constraint failed: {ref.table}.{ref.column}"
        for event, on in (("insert", "INSERT"), ("update", f'UPDATE OF "{ref.column}"')):
            statements.append(
                f'CREATE TRIGGER IF NOT EXISTS "{_PREFIX}_{ref.table}_{ref.column}_{event}" '
                f'BEFORE {on} ON "{ref.table}" FOR EACH ROW WHEN {missing} '
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    for target in _grouped(references, "target"):
        statements.append(
            f'CREATE TRIGGER IF NOT EXISTS "{_PREFIX}_{target}_id_fixed" '
            f'BEFORE UPDATE OF id ON "{target}" FOR EACH ROW WHEN OLD.id <> NEW.id '
            f"BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: "
            f"{target}.id cannot change'); END"
        )
    return statements
