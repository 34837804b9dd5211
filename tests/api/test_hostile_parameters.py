"""Hostile query parameters, path ids, cursors and JSON bodies: a 4xx naming the culprit,
never a 500.

The operations, their parameters and their body fields come from the OpenAPI schema the
API serves, so an endpoint, filter or field added later is swept without touching this
module. Requests are made as a curator, who reaches every operation (import runs and
writes included). Each request runs in a savepoint that is rolled back: on PostgreSQL a
failed statement would otherwise abort the test's transaction and turn every later
request into an error, and a write accepted by one request would change what the next
one meets (a duplicate title, a deleted row).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import orjson
import pytest
from django.db import transaction
from rest_framework.test import APIClient

from api.urls import router
from evidence.models import ImportRun, StudyMeshHeading
from evidence.search import refresh_search_document
from tests.api.factories import full_study
from tests.factories import AuthorFactory, ConceptFactory, WorkFactory

pytestmark = pytest.mark.django_db

HUGE_INT = "99999999999999999999"  # beyond bigint and SQLite's INTEGER
LONG_TEXT = "x" * 5000
NUL = "\x00"

# Query-parameter values; the first few are the ones most likely to reach the database
# unchecked, and are sent in every combination below.
DANGEROUS_VALUES: tuple[str, ...] = (NUL, "rct\x00", HUGE_INT, LONG_TEXT)
HOSTILE_VALUES: tuple[str, ...] = (
    *DANGEROUS_VALUES,
    "",
    "abc",
    "-1",
    "0",
    "1e309",
    "NaN",
    "2019-13-45",
    "null",
    "%00 %s %(x)s",  # a literal percent-escape and format directives
    "'; DROP TABLE evidence_study; --",
    "\u202e",
    "[]",
    "a,b,,c",
)

OTHER_VALUES = HOSTILE_VALUES[len(DANGEROUS_VALUES) :]

JUNK_IDS: tuple[str, ...] = (
    "abc",
    "-1",
    "0",
    HUGE_INT,
    "1e309",
    "NaN",
    NUL,
    "1\x00",
    "'; DROP TABLE",
    "\u202e",
    LONG_TEXT,
    "pmid:",
    f"pmid:{HUGE_INT}",
    "pmcid:\x00",
    "doi:10.1000/x",
)

# JSON texts for one body field. Never valid for any field: a 400 naming the field.
REJECTED_JSON: tuple[str, ...] = (
    r'"\u0000"',
    r'"a\u0000b"',
    r'[{"\u0000": "\u0000"}]',
    r'{"a": {"b": [null]}}',
    r'{"state": "reported", "value": "\u0000"}',
    "[" * 40 + "]" * 40,
)
# Not JSON any parser downstream can hold: a 400 for the body, saying where it is wrong.
UNPARSABLE_JSON: tuple[str, ...] = ("NaN", "Infinity", "1e309", "-1e309", r'"\ud800"')
# Wrong or odd for most fields, right for some: never a 500, and a 400 names the field.
ODD_JSON: tuple[str, ...] = (
    '""',
    '"abc"',
    "-1",
    "0",
    HUGE_INT,
    f"-{HUGE_INT}",
    "1.5",
    '"2019-13-45"',
    "null",
    json.dumps(LONG_TEXT),
    "true",
    "[]",
    "{}",
    "[null]",
    '[1, "x", {}]',
    f'[{{"id": {HUGE_INT}}}]',
)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # as in the schema: /api/v1/studies/{id}/
    query: tuple[str, ...]
    path_params: tuple[str, ...]
    body_fields: tuple[str, ...]  # of the JSON body, if the operation takes one
    group_by: tuple[str, ...]  # facet names, on lists that have them
    formats: tuple[str, ...]  # ?format= values the operation documents


@functools.cache
def served_schema() -> dict:
    """The schema as a client reads it (anonymous; generating it needs no database)."""
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _enum(params: list[dict], name: str) -> tuple[str, ...]:
    for param in params:
        if param["name"] == name:
            schema = param["schema"]
            return tuple(schema.get("items", schema).get("enum", ()))
    return ()


def _body_fields(operation: dict) -> tuple[str, ...]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return ()
    schema = content["schema"]
    if "$ref" in schema:
        schema = served_schema()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return tuple(schema.get("properties", {}))


@functools.cache
def operations() -> tuple[Operation, ...]:
    found = []
    for path, methods in served_schema()["paths"].items():
        for method, operation in methods.items():
            params = operation.get("parameters", [])
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    query=tuple(p["name"] for p in params if p["in"] == "query"),
                    path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                    body_fields=_body_fields(operation),
                    group_by=_enum(params, "group_by"),
                    formats=_enum(params, "format"),
                )
            )
    return tuple(found)


RESOURCES = [f"/api/v1/{prefix}/" for prefix, _, _ in router.registry]


def operations_of(resource: str, method: str) -> list[Operation]:
    return [op for op in operations() if op.path.startswith(resource) and op.method == method]


@pytest.fixture
def world(curator) -> dict[str, int]:
    """Two rows or more in every list (so that there is a next page), and the ids the
    valid bodies below refer to."""
    studies = [full_study(pub_year=2019 + n, references=3, citing=2) for n in range(2)]
    for study in studies:
        refresh_search_document(study.pk)  # so that q= finds them, and ranks them
    for name in ("refs.ris", "more.ris"):
        ImportRun.objects.create(user=curator, source_name=name, format="ris")
    ConceptFactory(name="Blood supply")  # full_study tags both studies with one concept
    heading = StudyMeshHeading.objects.filter(study=studies[0]).first()
    return {
        "study": studies[0].pk,
        "heading": heading.pk,
        "author": AuthorFactory().pk,
        "work": WorkFactory().pk,
        "other_work": WorkFactory().pk,
    }


def first_id(client: APIClient, resource: str) -> int:
    """The id of a row of ``resource`` (ids differ between runs on PostgreSQL, whose
    sequences are not reset between tests)."""
    return client.get(resource, {"page_size": "1"}).json()["results"][0]["id"]


def request(
    client: APIClient,
    method: str,
    url: str,
    query: dict | None = None,
    body: bytes = b"{}",
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """Status and JSON body (None when not JSON), with every change rolled back. An
    exception escaping the view counts as a 500 with its text, so that one sweep reports
    every failure at once instead of stopping at the first."""
    try:
        with transaction.atomic():
            if method == "GET":
                response = client.get(url, query)
            else:
                response = client.generic(method, url, body, content_type=content_type)
            # An export runs its queries while streaming: read it inside the savepoint.
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            transaction.set_rollback(True)
    except Exception as exc:  # reported below, not swallowed
        return 500, f"{type(exc).__name__}: {str(exc)[:300]}"
    if response.status_code >= 500:
        return response.status_code, content[:300]
    try:
        return response.status_code, orjson.loads(content)
    except orjson.JSONDecodeError:
        return response.status_code, None


def concrete(path: str, pk: Any) -> str:
    return path.replace("{id}", quote(str(pk), safe=""))


def names_one_of(body: Any, names: set[str]) -> bool:
    return isinstance(body, dict) and bool(names & set(body))


def expect(failures: list[str], label: str, status: int, body: Any, culprits: set[str]) -> None:
    """Below 500, and a 400 names one of ``culprits`` at the top level of its body."""
    if status >= 500:
        failures.append(f"{label}: {status} {body!r:.300}")
    elif status == 400 and not names_one_of(body, culprits):
        failures.append(f"{label}: 400 naming none of {sorted(culprits)}: {body!r:.300}")


def report(failures: list[str], swept: int) -> None:
    assert swept, "nothing was swept: the schema lost its operations?"
    assert not failures, f"{len(failures)} of {swept} requests:\n" + "\n".join(failures)


# --- the schema is swept whole ----------------------------------------------------------


def test_every_operation_belongs_to_a_swept_resource():
    stray = [op.path for op in operations() if not op.path.startswith(tuple(RESOURCES))]
    lists = {op.path for op in operations() if op.method == "GET" and "cursor" in op.query}

    assert not stray
    assert set(RESOURCES) <= lists


# --- query parameters ---------------------------------------------------------------------


def query_cases(names: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, value in itertools.product(names, HOSTILE_VALUES):
        yield name, {name: value}
    for name in names:
        yield name, {name: ["1", "abc", NUL]}  # repeated: the last one counts


@pytest.mark.parametrize("resource", RESOURCES)
def test_hostile_query_parameters(curator_api, world, resource):
    failures: list[str] = []
    swept = 0
    pk = world["study"] if resource == "/api/v1/studies/" else first_id(curator_api, resource)
    for op in operations_of(resource, "GET"):
        url = concrete(op.path, pk)
        for name, params in query_cases(op.query):
            swept += 1
            status, body = request(curator_api, "GET", url, params)
            expect(failures, f"GET {url} {params!r:.80}", status, body, {name})
    report(failures, swept)


def other_modes(op: Operation) -> list[dict[str, str]]:
    """Valid parameters that send a list down its other code paths: the count query
    of page numbers, facet counts, a streamed export, relevance ranking, the rich
    (non-lean) study rows."""
    if "page" not in op.query or "{id}" in op.path:
        return []
    modes = [{"page": "2", "page_size": "1"}]
    modes += [{"group_by": name} for name in op.group_by[:2]]
    modes += [{"format": name} for name in op.formats if name in {"csv", "evidb-json"}]
    if op.path == "/api/v1/studies/":
        modes += [
            {"q": "osteonecrosis", "page_size": "1"},
            {"fields": "authors,appraisal,mesh_terms", "ordering": "-year"},
        ]
    return modes


@pytest.mark.parametrize("resource", RESOURCES)
def test_hostile_query_parameters_in_every_list_mode(curator_api, world, resource):
    failures: list[str] = []
    swept = 0
    for op in operations_of(resource, "GET"):
        for mode, name in itertools.product(other_modes(op), op.query):
            if name in mode:
                continue
            # The dangerous values every time, one more of the rest in turn.
            for value in (*DANGEROUS_VALUES, OTHER_VALUES[swept % len(OTHER_VALUES)]):
                swept += 1
                params = {**mode, name: value}
                status, body = request(curator_api, "GET", op.path, params)
                label = f"GET {op.path} {params!r:.100}"
                expect(failures, label, status, body, {name, *mode})
    report(failures, swept)


# --- cursors --------------------------------------------------------------------------------

FORGED_POSITION_VALUES: tuple[Any, ...] = (
    NUL,
    "abc",
    None,
    True,
    1.5,
    2**63 - 1,
    {"f": 1e308},
    {"d": "2019-13-45"},
    {"d": "2019-01-01"},
    {"dt": "2019-01-01T00:00:00"},  # naive
    {"x": 1},
    [1],
    LONG_TEXT,
)


def forge(cursor: str, slot: int, value: Any) -> str:
    """``cursor`` with the value at ``slot`` of its position replaced (json, not orjson:
    the forger need not respect orjson's limits)."""
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["p"][slot] = value
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def list_urls(world: dict[str, int]) -> Iterator[tuple[str, dict[str, str]]]:
    """Every list and ordering that pages with cursors, with the query that asks for it."""
    for op in operations():
        if op.method != "GET" or "cursor" not in op.query:
            continue
        url = concrete(op.path, world["study"])
        orderings = _enum(served_schema()["paths"][op.path]["get"]["parameters"], "ordering")
        for ordering in orderings or (None,):
            if ordering == "relevance":
                yield url, {"q": "osteonecrosis", "ordering": ordering}
            elif ordering is not None:
                yield url, {"ordering": ordering}
            else:
                yield url, {}


def test_forged_cursors_are_400_naming_cursor(curator_api, world):
    failures: list[str] = []
    swept = 0
    for url, query in list_urls(world):
        first = curator_api.get(url, {**query, "page_size": "1"}).json()
        assert first["next"], f"{url} {query}: no second page to forge a cursor from"
        cursor = parse_qs(urlparse(first["next"]).query)["cursor"][0]
        slots = len(json.loads(base64.urlsafe_b64decode(cursor + "===="))["p"])
        for slot, value in itertools.product(range(slots), FORGED_POSITION_VALUES):
            swept += 1
            params = {**query, "cursor": forge(cursor, slot, value)}
            status, body = request(curator_api, "GET", url, params)
            label = f"GET {url} {query} position[{slot}]={value!r:.40}"
            expect(failures, label, status, body, {"cursor"})
    report(failures, swept)


# --- path parameters --------------------------------------------------------------------------


def test_junk_ids_in_paths(curator_api, world):
    failures: list[str] = []
    swept = 0
    for op in operations():
        if "id" not in op.path_params:
            continue
        for junk in JUNK_IDS:
            swept += 1
            url = concrete(op.path, junk)
            status, body = request(curator_api, op.method, url)
            expect(failures, f"{op.method} {op.path} id={junk!r:.40}", status, body, {"id"})
    report(failures, swept)


# --- JSON bodies ------------------------------------------------------------------------------


def valid_bodies(world: dict[str, int]) -> dict[str, dict]:
    """A body each create (and each full update) accepts, by resource path."""
    return {
        "/api/v1/studies/": {"title": "A hostile study"},
        "/api/v1/studies/{id}/appraisal/": {"design": "rct"},
        "/api/v1/journals/": {"title": "Journal of Hostile Input"},
        "/api/v1/authors/": {"last_name": "Hostile"},
        "/api/v1/concepts/": {"name": "Hostile concept", "kind": "mechanism"},
        "/api/v1/authorships/": {
            "study": world["study"],
            "author": world["author"],
            "position": 99,
        },
        "/api/v1/mesh-headings/": {"study": world["study"], "descriptor": "Hostility"},
        "/api/v1/works/": {"title": "A hostile work"},
        "/api/v1/citations/": {"citing": world["work"], "cited": world["other_work"]},
        "/api/v1/limitations/": {
            "study": world["study"],
            "category": "sample_size",
            "description": "Small.",
        },
        "/api/v1/research-gaps/": {
            "study": world["study"],
            "category": "mechanism",
            "description": "Unknown.",
        },
        "/api/v1/effect-sizes/": {
            "study": world["study"],
            "outcome": "Collapse",
            "measure": "RR",
            "value": 0.5,
        },
    }


def write_target(client: APIClient, op: Operation, world: dict[str, int]) -> tuple[str, dict]:
    """The URL to write to (an existing row for updates) and the valid body to start from."""
    bodies = valid_bodies(world)
    if op.path.endswith("/appraisal/"):
        return concrete(op.path, world["study"]), bodies[op.path]
    resource = op.path.split("{id}")[0]
    if "{id}" not in op.path:
        return op.path, bodies[resource]
    pk = {
        "/api/v1/studies/": world["study"],
        "/api/v1/mesh-headings/": world["heading"],
        "/api/v1/works/": world["work"],
    }.get(resource)
    if pk is None:
        pk = first_id(client, resource)
    return concrete(op.path, pk), bodies[resource]


def body_with(base: dict, field: str, json_value: str) -> bytes:
    """``base`` with ``field`` set to the raw JSON text ``json_value`` (spliced in as
    text: NaN, 1e309 and lone surrogates cannot be built as Python values and dumped)."""
    rest = orjson.dumps({k: v for k, v in base.items() if k != field}).decode()
    inner = rest[1:-1]
    return ("{" + (inner + ", " if inner else "") + f'"{field}": {json_value}' + "}").encode()


WRITE_RESOURCES = [r for r in RESOURCES if r != "/api/v1/imports/"]


ODD_PER_FIELD = 6


def json_cases(method: str, fields: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(field, JSON text) pairs for one write operation, sampled to keep the sweep fast.

    Every field gets every never-valid value. Of the odd ones each field gets
    ODD_PER_FIELD, a different run for POST and PATCH, so that between them a field
    meets most; a full update validates as a create does, so PUT gets none. The
    unparsable values fail in the parser whatever the field: one field carries them.
    """
    start = {"POST": 0, "PATCH": ODD_PER_FIELD}.get(method)
    for i, field in enumerate(fields):
        yield from ((field, value) for value in REJECTED_JSON)
        if start is not None:
            for k in range(ODD_PER_FIELD):
                yield field, ODD_JSON[(start + i * ODD_PER_FIELD + k) % len(ODD_JSON)]
    yield from ((fields[0], value) for value in UNPARSABLE_JSON)


@pytest.mark.parametrize("resource", WRITE_RESOURCES)
def test_hostile_json_fields(curator_api, world, resource):
    failures: list[str] = []
    swept = 0
    for method in ("POST", "PUT", "PATCH"):
        for op in operations_of(resource, method):
            url, base = write_target(curator_api, op, world)
            if method == "PATCH":
                base = {}
            status, body = request(curator_api, method, url, body=orjson.dumps(base))
            assert status in {200, 201}, f"{method} {url} valid body: {status} {body}"
            for field, value in json_cases(method, op.body_fields):
                swept += 1
                status, body = request(curator_api, method, url, body=body_with(base, field, value))
                label = f"{method} {op.path} {field}={value:.40}"
                if value in UNPARSABLE_JSON:
                    if status != 400 or "JSON parse error" not in str(body):
                        failures.append(f"{label}: {status} {body!r:.200}, not a parse error")
                elif value in REJECTED_JSON:
                    if status != 400:
                        failures.append(f"{label}: {status}, not refused")
                    expect(failures, label, status, body, {field})
                else:
                    # A rule across fields (an author needs a name) answers with
                    # non_field_errors; uniqueness against other rows too.
                    expect(failures, label, status, body, {field, "non_field_errors"})
    report(failures, swept)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # Python's json: RecursionError
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"title": "\\ud800"}',
        b"\xff\xfe{}",
    ],
    ids=["deep-array", "deep-object", "lone-surrogate", "not-utf8"],
)
def test_unparsable_bodies_are_400(curator_api, world, body):
    for url in ("/api/v1/concepts/", f"/api/v1/studies/{world['study']}/"):
        method = "POST" if url.endswith("concepts/") else "PATCH"
        status, answer = request(curator_api, method, url, body=body)

        assert status == 400, answer
        assert answer["detail"].startswith("JSON parse error")


def test_oversized_json_body_is_413(curator_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    status, body = request(
        curator_api, "POST", "/api/v1/concepts/", body=orjson.dumps({"name": "x" * 2000})
    )

    assert status == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in body["detail"]


def test_a_float_is_not_an_id(curator_api, world):
    # DRF's related field truncated it: 1.5 named row 1.
    url = f"/api/v1/limitations/{first_id(curator_api, '/api/v1/limitations/')}/"

    status, body = request(
        curator_api, "PATCH", url, body=orjson.dumps({"study": world["study"] + 0.5})
    )

    assert status == 400
    assert body == {"study": ["Incorrect type. Expected pk value, received float."]}


def test_patch_of_a_reported_value_needs_its_state(curator_api, world):
    status, body = request(
        curator_api,
        "PATCH",
        f"/api/v1/studies/{world['study']}/appraisal/",
        body=b'{"safety": {"value": "Mild pain"}}',
    )

    assert (status, body) == (400, {"safety": {"state": ["This field is required."]}})


@pytest.mark.parametrize(
    ("qualifiers", "message"),
    [
        ([{"name": "Surgery\x00"}], "Null characters are not allowed."),
        # jsonb hands 1e20 back as an integer that orjson cannot render.
        ([{"id": 10**20}], "Numbers inside lists and objects must lie within"),
    ],
)
def test_free_form_json_is_checked_before_it_is_stored(curator_api, world, qualifiers, message):
    before = StudyMeshHeading.objects.get(pk=world["heading"]).qualifiers
    text = json.dumps({"qualifiers": qualifiers}).encode()

    status, body = request(
        curator_api, "PATCH", f"/api/v1/mesh-headings/{world['heading']}/", body=text
    )

    assert status == 400
    assert body["qualifiers"][0].startswith(message)
    assert StudyMeshHeading.objects.get(pk=world["heading"]).qualifiers == before


# --- other request parts ----------------------------------------------------------------------


def test_too_many_query_parameters_is_a_json_400(curator_api):
    response = curator_api.get("/api/v1/studies/?" + "&".join(["design=rct"] * 1500))

    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]


def test_format_suffix_is_named_in_the_error(curator_api, world):
    response = curator_api.get(f"/api/v1/works/{world['work']}.0/")

    assert response.status_code == 400
    assert response.json() == {"format": ["Unknown format '0'; use one of json."]}


RIS = b"TY  - JOUR\nTI  - Hostile import\nPY  - 2020\nER  - \n"


def test_hostile_import_parameters(curator_api):
    """POST /imports/ options as query parameters, with a raw body (dry runs)."""
    (op,) = operations_of("/api/v1/imports/", "POST")
    failures: list[str] = []
    swept = 0
    for name, value in itertools.product(op.query, HOSTILE_VALUES):
        swept += 1
        query = {"dry_run": "true", name: value}
        url = "/api/v1/imports/?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        status, body = request(curator_api, "POST", url, body=RIS, content_type="text/plain")
        expect(failures, f"POST imports {name}={value!r:.40}", status, body, {name})
    report(failures, swept)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?filename=refs%00.ris", {}),
        ("", {"HTTP_CONTENT_DISPOSITION": 'attachment; filename="refs\x00.ris"'}),
    ],
    ids=["query", "content-disposition"],
)
def test_import_file_name_with_nul_is_400(curator_api, query, headers):
    response = curator_api.generic(
        "POST", f"/api/v1/imports/{query}", RIS, content_type="text/plain", **headers
    )

    assert response.status_code == 400
    assert response.json() == {"filename": ["Null characters are not allowed."]}
    assert not ImportRun.objects.exists()
