"""The import's row-level helpers (evidence.services.bulk) on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from evidence.models import Author, PublicationType, Work
from evidence.services.bulk import array_literal, insert_rows, select_in, update_rows

pytestmark = pytest.mark.django_db

# Keys a citation file can bring: the array literal's own syntax (quotes, backslashes,
# commas, braces, blanks, the word NULL), SQL quoting, and non-ASCII text.
AWKWARD_KEYS = [
    'name:o"brien|A',
    "name:back\\slash|B",
    "name:o'neil|C",
    "name:a,b|D",
    "name:{braced}|E",
    " name:spaced |F",
    "NULL",
    "name:müller|G",
]


def test_select_in_finds_exactly_the_rows_whose_key_is_listed():
    ids = {key: Author.objects.create(key=key, last_name="x").pk for key in AWKWARD_KEYS}
    Author.objects.create(key="name:other|Z", last_name="y")

    found = dict(select_in(Author, "key", [*AWKWARD_KEYS, "name:absent|Q"], ("key", "id")))

    assert found == ids


def test_select_in_matches_numbers():
    first = Author.objects.create(key="a", last_name="a")
    Author.objects.create(key="b", last_name="b")

    assert select_in(Author, "id", [first.pk, 10**9], ("id", "key")) == [(first.pk, "a")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL array literal")
def test_array_literal_round_trips_through_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::text[]",
            [
                array_literal([*AWKWARD_KEYS, ""], textual=True),
                array_literal([3, 1, 2], textual=False),
                array_literal([], textual=True),
            ],
        )
        assert cursor.fetchone() == ([*AWKWARD_KEYS, ""], [3, 1, 2], [])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planning")
def test_values_reach_the_planner_as_a_constant():
    # An ARRAY(subquery) of the values is an InitPlan: the planner guessed 100 values
    # and, on a table its statistics called small (authors mid-import), chose a seq
    # scan matching each row against the whole list, a cost of rows x values that grew
    # with every batch. A constant array is counted, and hashed in a seq scan.
    keys = [f"name:k{number}|A" for number in range(50)]
    with CaptureQueriesContext(connection) as queries:
        select_in(Author, "key", keys, ("key", "id"))
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert "SELECT" not in sql.split("ANY(", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = json.dumps(cursor.fetchone()[0])
    assert '"InitPlan"' not in plan and '"SubPlan"' not in plan


def test_update_rows_sets_each_row_its_own_values_and_leaves_the_rest():
    first, second, untouched = (
        Work.objects.create(title=title, pmid=pmid, doi=f"10.1000/{title}")
        for title, pmid in (("first", 11), ("second", 22), ("untouched", 33))
    )

    updated = update_rows(
        Work,
        ("title", "pmid", "doi"),
        [
            ("first, renamed", 12, None, first.pk),
            ('second "quoted"', None, "10.1000/new", second.pk),
        ],
    )

    assert updated == 2
    rows = {w.pk: (w.title, w.pmid, w.doi) for w in Work.objects.all()}
    assert rows == {
        first.pk: ("first, renamed", 12, None),
        second.pk: ('second "quoted"', None, "10.1000/new"),
        untouched.pk: ("untouched", 33, "10.1000/untouched"),
    }


def test_insert_rows_runs_during_once_and_inserts_every_row():
    calls: list[bool] = []

    def during():
        # On PostgreSQL the COPY is still open: the server is loading the rows.
        if connection.vendor == "postgresql":
            from psycopg.pq import TransactionStatus

            calls.append(connection.connection.info.transaction_status == TransactionStatus.ACTIVE)
        else:
            calls.append(True)

    inserted = insert_rows(
        PublicationType,
        ("name", "ui"),
        [(f"Type {number}", f"D{number:06}") for number in range(300)],
        during=during,
    )

    assert inserted == 300 and calls == [True]
    assert PublicationType.objects.filter(name__startswith="Type ").count() == 300


def test_insert_rows_runs_during_without_rows():
    calls = []
    assert insert_rows(PublicationType, ("name",), [], during=lambda: calls.append(1)) == 0
    assert calls == [1]


def test_an_error_while_rows_load_rolls_back_and_leaves_the_connection_usable():
    class Stop(Exception):
        pass

    def during():
        raise Stop

    with pytest.raises(Stop), transaction.atomic():
        insert_rows(PublicationType, ("name", "ui"), [("Loaded", "D1")], during=during)

    assert not PublicationType.objects.filter(name="Loaded").exists()
    PublicationType.objects.create(name="After")
    assert PublicationType.objects.filter(name="After").exists()
