"""Reads: querysets shaped once for what each read path shows.

Callers (the API, the exporters) filter and order these further; nothing here renders.
Every multi-valued condition is a ``pk__in`` subquery rather than a join, so a study
matched twice is still listed once and no ``DISTINCT`` is needed.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Count,
    Expression,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import NullIf

from evidence import identifiers
from evidence.models import (
    Appraisal,
    Authorship,
    Citation,
    EffectSize,
    ImportRun,
    Limitation,
    ResearchGap,
    Study,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS

# Largest value a BigAutoField primary key can hold.
MAX_ID = 2**63 - 1

# The lean list item: scalar columns and two one-to-one joins, no prefetch. (Joined
# values get names of their own: values() refuses one that shadows a model field.)
STUDY_SUMMARY_COLUMNS = ("id", "pmid", "doi", "pmcid", "title", "pub_year", "review_status")
STUDY_SUMMARY_JOINED = {
    "journal_title": F("journal__title"),
    "appraisal_design": F("appraisal__design"),
    "appraisal_certainty": F("appraisal__certainty"),
}


class InvalidReference(ValueError):
    """A study reference (``12``, ``pmid:123``, ``pmcid:PMC1``, ``doi:10.x/y``) that
    cannot be one; the message says why."""


@dataclass(frozen=True, slots=True)
class StudyReference:
    """A way to name a study or a work: by primary key or by one identifier."""

    kind: str  # "id", "pmid", "pmcid" or "doi"
    value: int | str

    def study_q(self, prefix: str = "") -> Q:
        field = "pk" if self.kind == "id" else self.kind
        return Q(**{f"{prefix}{field}": self.value})

    def work_q(self) -> Q:
        """Works this reference denotes: the node of a study by id, else by identifier
        (so ``pmid:n`` finds a cited work that is not a study in the database)."""
        if self.kind == "id":
            return Q(study_id=self.value)
        return Q(**{self.kind: self.value})


_PREFIX_RE = re.compile(r"^(pmid|pmcid|doi):\s*(.+)$", re.IGNORECASE)


def parse_id(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise InvalidReference(f"{text!r} is not a positive integer id.")
    value = int(text)
    if value < 1 or value > MAX_ID:
        raise InvalidReference(f"{text!r} is out of range for an id.")
    return value


def parse_study_reference(text: str, *, allow_doi: bool = False) -> StudyReference:
    """``"12"`` (primary key), ``"pmid:33081809"``, ``"pmcid:PMC7574435"`` and, where
    ``allow_doi``, ``"doi:10.1186/..."``."""
    text = text.strip()
    match = _PREFIX_RE.match(text)
    if not match:
        if text.isdigit():
            return StudyReference("id", parse_id(text))
        accepted = "an id, pmid:<n>, pmcid:<id>" + (" or doi:<doi>" if allow_doi else "")
        raise InvalidReference(f"{text!r} is not {accepted}.")
    kind, raw = match.group(1).lower(), match.group(2)
    try:
        if kind == "pmid":
            return StudyReference("pmid", int(identifiers.normalize_pmid(raw)))
        if kind == "pmcid":
            return StudyReference("pmcid", identifiers.normalize_pmcid(raw))
        if allow_doi:
            return StudyReference("doi", identifiers.normalize_doi(raw))
    except identifiers.InvalidIdentifier as exc:
        raise InvalidReference(str(exc).capitalize() + ".") from None
    raise InvalidReference(f"{text!r}: name a study by id, pmid:<n> or pmcid:<id>.")


# --- studies -------------------------------------------------------------------------


def study_queryset() -> QuerySet[Study]:
    return Study.objects.all()


def study_summaries(queryset: QuerySet[Study], extra: Iterable[str] = ()) -> QuerySet:
    """The lean list item as dicts (one query, no model instances); ``extra`` names
    further columns or annotations to select, such as those a cursor needs."""
    names = [*STUDY_SUMMARY_COLUMNS, *(n for n in extra if n not in STUDY_SUMMARY_COLUMNS)]
    return queryset.values(*names, **STUDY_SUMMARY_JOINED)


# The parts of the full study representation beyond the study row, so that a sparse
# fieldset only pays for what it shows.
STUDY_DETAIL_PARTS = (
    "authors",
    "publication_types",
    "mesh_terms",
    "appraisal",
    "effect_sizes",
    "limitations",
    "research_gaps",
    "references_count",
    "cited_by_count",
)

_AUTHOR_COLUMNS = (
    "author_id",
    "position",
    "last_name",
    "fore_name",
    "initials",
    "collective_name",
    "orcid",
    "affiliations",
)
_EFFECT_SIZE_COLUMNS = (
    "id",
    "outcome",
    "measure",
    "value",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "p_value",
    "n_intervention",
    "n_comparator",
    "timepoint",
    "certainty",
    "note",
    "order",
)

# Each list part as a values() query over a set of studies; the first column is the
# study id (an appraisal's primary key is its study's id).
_PART_QUERIES: dict[str, Callable[[list[int]], QuerySet]] = {
    "authors": lambda ids: (
        Authorship.objects.filter(study_id__in=ids)
        .order_by("position", "id")
        .values("study_id", *_AUTHOR_COLUMNS)
    ),
    "publication_types": lambda ids: (
        Study.publication_types.through.objects.filter(study_id__in=ids)
        .order_by("publicationtype__name")
        .values("study_id", type_name=F("publicationtype__name"))
    ),
    "mesh_terms": lambda ids: (
        StudyMeshHeading.objects.filter(study_id__in=ids)
        .order_by("descriptor__name", "id")
        .values(
            "study_id",
            "is_major",
            "qualifiers",
            descriptor_name=F("descriptor__name"),
            descriptor_ui=F("descriptor__ui"),
        )
    ),
    "appraisal": lambda ids: (
        Appraisal.concepts.through.objects.filter(appraisal_id__in=ids)
        .order_by("concept__kind", "concept__name")
        .values("appraisal_id", "concept_id", "concept__name", "concept__kind")
    ),
    "effect_sizes": lambda ids: (
        EffectSize.objects.filter(study_id__in=ids)
        .order_by("order", "id")
        .values("study_id", *_EFFECT_SIZE_COLUMNS)
    ),
    "limitations": lambda ids: (
        Limitation.objects.filter(study_id__in=ids)
        .order_by("order", "id")
        .values("study_id", "id", "category", "description", "raised_by", "order")
    ),
    "research_gaps": lambda ids: (
        ResearchGap.objects.filter(study_id__in=ids)
        .order_by("order", "id")
        .values("study_id", "id", "category", "description", "future_direction", "order")
    ),
    # Counting a column of the edge indexes lets PostgreSQL answer from the index alone.
    "references_count": lambda ids: (
        Citation.objects.filter(citing__study_id__in=ids)
        .order_by()
        .values("citing__study_id")
        .annotate(n=Count("cited_id"))
    ),
    "cited_by_count": lambda ids: (
        Citation.objects.filter(cited__study_id__in=ids)
        .order_by()
        .values("cited__study_id")
        .annotate(n=Count("citing_id"))
    ),
}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A values() query compiled once: its SQL (with stand-in parameters), the names of
    its columns, and the converters Django would apply to them."""

    sql: str
    names: tuple[str, ...]
    # (column index, converters, expression): JSON arrives as text, and on SQLite dates,
    # times and booleans too. The converters are the ones values() would run.
    converters: tuple[tuple[int, tuple[Callable, ...], Expression], ...]

    def dicts(self, fetched: Iterable[Sequence]) -> list[dict]:
        rows = []
        for values in fetched:
            if self.converters:
                values = list(values)
                for index, converters, expression in self.converters:
                    value = values[index]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    values[index] = value
            rows.append(dict(zip(self.names, values, strict=True)))
        return rows


def _compile(queryset: QuerySet, stand_ins: list) -> _Compiled:
    """Compile ``queryset`` (a values() query) whose only parameters are ``stand_ins``.

    Building and compiling a queryset costs Django about 0.7 ms for a small query and
    3 ms for the study row with its two joins, where running such an indexed query costs
    about 0.1 ms: for a study detail, compiling was most of the response time. The SQL
    differs only by its parameters, so it is compiled once and run with the real ones.
    """
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if list(params) != stand_ins:
        raise RuntimeError(f"the query has parameters of its own: {params!r}")
    query = queryset.query
    # As ValuesIterable names them.
    names = tuple(
        query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    # What SQLCompiler.get_converters finds, kept with the SQL: they depend on the
    # columns' fields and the database vendor (the key of every cache of _Compiled).
    converters = []
    for index, (column, _, _) in enumerate(compiler.select[: compiler.col_count]):
        found = (*connection.ops.get_db_converters(column), *column.get_db_converters(connection))
        if found:
            converters.append((index, found, column))
    return _Compiled(sql, names, tuple(converters))


@functools.lru_cache(maxsize=512)
def _compiled_part(part: str, count: int, vendor: str) -> _Compiled:
    """A part's query for ``count`` studies (its SQL differs only by the number of ids)."""
    stand_ins = list(range(-count, 0))
    return _compile(_PART_QUERIES[part](stand_ins), stand_ins)


def parts_in_one_round_trip() -> bool:
    """Whether several statements go to the database in one execute: with psycopg's
    client-side binding (Django's default) they do, which saves a round trip per part;
    SQLite runs one statement per execute."""
    if connection.vendor != "postgresql":
        return False
    import psycopg

    with connection.cursor() as cursor:
        return isinstance(cursor.cursor, psycopg.ClientCursor)


def _run(statements: list[tuple[_Compiled, list]]) -> list[list[dict]]:
    """The rows of each compiled statement run with its parameters, all in one round
    trip where the database allows it."""
    results: list[list[dict]] = []
    with connection.cursor() as cursor:
        if len(statements) > 1 and parts_in_one_round_trip():
            cursor.execute(
                ";\n".join(compiled.sql for compiled, _ in statements),
                [param for _, params in statements for param in params],
            )
            for index, (compiled, _) in enumerate(statements):
                if index:
                    cursor.nextset()
                results.append(compiled.dicts(cursor.fetchall()))
        else:
            for compiled, params in statements:
                cursor.execute(compiled.sql, params)
                results.append(compiled.dicts(cursor.fetchall()))
    return results


# The detail's own columns: the study's (not its search document or matching keys), its
# journal's and its appraisal's, from two left joins. ``appraisal__study`` is null when
# the study has no appraisal.
STUDY_DETAIL_COLUMNS = (
    "id",
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "abstract_sections",
    "language",
    "volume",
    "issue",
    "pages",
    "pub_date",
    "pub_date_precision",
    "pub_date_text",
    "pub_year",
    "keywords",
    "related_articles",
    "grants",
    "funding_statement",
    "conflict_of_interest",
    "is_retracted",
    "citation_count",
    "review_status",
    "imported_from",
    "imported_at",
    "created_at",
    "updated_at",
    "journal_id",
    *(
        f"journal__{name}"
        for name in ("title", "iso_abbreviation", "issn", "eissn", "nlm_id", "publisher")
    ),
    "appraisal__study",
    "appraisal__design",
    *(f"appraisal__{name}" for field in REPORTED_FIELDS for name in (f"{field}_state", field)),
    *(
        f"appraisal__{name}"
        for name in (
            "main_result",
            "practice_relevance",
            "risk_of_bias",
            "risk_of_bias_tool",
            "certainty",
            "notes",
            "updated_at",
        )
    ),
)


def study_detail_values(queryset: QuerySet[Study], extra: Iterable[str] = ()) -> QuerySet:
    """``queryset`` as dicts of the detail's own columns (``STUDY_DETAIL_COLUMNS``) and
    ``extra`` ones (such as those a cursor needs); ``attach_study_parts`` adds the rest."""
    names = [*STUDY_DETAIL_COLUMNS, *(n for n in extra if n not in STUDY_DETAIL_COLUMNS)]
    return queryset.values(*names)


# Stand-in values to compile the one-study query with (positive: Django refuses to
# compile a lookup of a positive integer field with a negative value).
_LOOKUP_STAND_INS: dict[str, int | str] = {
    "id": 2**31 - 1,
    "pmid": 2**31 - 1,
    "pmcid": "PMC0",
    "doi": "10.0/stand-in",
}


@functools.lru_cache(maxsize=16)
def _compiled_study_row(kind: str, vendor: str) -> _Compiled:
    stand_in = _LOOKUP_STAND_INS[kind]
    queryset = Study.objects.filter(StudyReference(kind, stand_in).study_q()).order_by()
    return _compile(study_detail_values(queryset), [stand_in])


def study_detail(reference: StudyReference) -> dict | None:
    """The study ``reference`` names as one row of ``study_detail_values`` with every
    part attached, or None when there is no such study.

    By id on PostgreSQL this is one round trip for the row and the nine parts together;
    by another identifier the row comes first (the parts need its id). Nothing is
    compiled per request (see ``_compile``).
    """
    row_query = _compiled_study_row(reference.kind, connection.vendor)
    if reference.kind == "id":
        ids = [reference.value]
        found, *fetched = _run(
            [
                (row_query, ids),
                *((_compiled_part(p, 1, connection.vendor), ids) for p in _PART_QUERIES),
            ]
        )
        if not found:
            return None
        _attach(found, dict(zip(_PART_QUERIES, fetched, strict=True)))
        return found[0]
    (found,) = _run([(row_query, [reference.value])])
    if not found:
        return None
    return attach_study_parts(found)[0]


def attach_study_parts(
    rows: Sequence[dict], parts: Iterable[str] = STUDY_DETAIL_PARTS
) -> Sequence[dict]:
    """Add to each row of ``study_detail_values`` what its detail shows of ``parts``:
    lists of dicts under the part's name (the appraisal's concepts under
    ``appraisal_concepts``, publication types as names) and the two citation counts as
    integers. One query per part whatever the number of studies, all in one round trip
    on PostgreSQL.

    This does what prefetch_related would, without model instances, prefetch
    bookkeeping or query compilation per request.
    """
    parts = set(parts)
    ids = [row["id"] for row in rows]
    if not ids:
        return rows
    wanted = [part for part in _PART_QUERIES if part in parts]
    fetched = _run([(_compiled_part(part, len(ids), connection.vendor), ids) for part in wanted])
    _attach(rows, dict(zip(wanted, fetched, strict=True)))
    return rows


def _attach(rows: Sequence[dict], fetched: dict[str, list[dict]]) -> None:
    for part, part_rows in fetched.items():
        # Each part's first column is its study's id.
        owner = _compiled_part(part, 1, connection.vendor).names[0]
        grouped: dict[int, list[dict]] = defaultdict(list)
        for part_row in part_rows:
            grouped[part_row.pop(owner)].append(part_row)
        for row in rows:
            found = grouped.get(row["id"], [])
            if part in {"references_count", "cited_by_count"}:
                row[part] = found[0]["n"] if found else 0
            elif part == "appraisal":
                row["appraisal_concepts"] = found
            elif part == "publication_types":
                row[part] = [item["type_name"] for item in found]
            else:
                row[part] = found


def studies_citing(reference: StudyReference) -> QuerySet:
    """Ids of studies whose reference lists include the work ``reference`` names."""
    cited = Work.objects.filter(reference.work_q())
    return Citation.objects.filter(cited__in=cited, citing__study__isnull=False).values(
        "citing__study_id"
    )


def studies_cited_by(reference: StudyReference) -> QuerySet:
    """Ids of studies that the work ``reference`` names lists among its references."""
    citing = Work.objects.filter(reference.work_q())
    return Citation.objects.filter(citing__in=citing, cited__study__isnull=False).values(
        "cited__study_id"
    )


_LINKED_STUDY = ("journal", "appraisal")


def study_references(study: Study) -> QuerySet[Citation]:
    """The reference list of ``study``: every cited work, in the database or not."""
    return Citation.objects.filter(citing__study=study).select_related(
        "cited", *(f"cited__study__{name}" for name in _LINKED_STUDY)
    )


def study_cited_by(study: Study) -> QuerySet[Citation]:
    """The works citing ``study``, in the database or not."""
    return Citation.objects.filter(cited__study=study).select_related(
        "citing", *(f"citing__study__{name}" for name in _LINKED_STUDY)
    )


# --- curated lists -------------------------------------------------------------------


def limitation_queryset() -> QuerySet[Limitation]:
    return Limitation.objects.select_related("study")


def research_gap_queryset() -> QuerySet[ResearchGap]:
    return ResearchGap.objects.select_related("study")


def effect_size_queryset() -> QuerySet[EffectSize]:
    return EffectSize.objects.select_related("study")


def appraisal_for(study: Study) -> Appraisal | None:
    try:
        return Appraisal.objects.prefetch_related("concepts").get(study=study)
    except Appraisal.DoesNotExist:
        return None


def import_run_queryset() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("user")


# --- facets --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facet:
    """One ``group_by`` dimension: the grouped value, an optional human label (for
    foreign keys), and whether a row can fall in several buckets (then counts are
    distinct)."""

    value: Expression
    label: Expression | None = None
    multi: bool = False


def _blank_is_null(path: str) -> Expression:
    # "" (not curated) and a missing appraisal row are one bucket: null.
    return NullIf(F(path), Value(""))


def _facets(prefix: str = "") -> dict[str, Facet]:
    p = prefix
    return {
        "design": Facet(_blank_is_null(f"{p}appraisal__design")),
        "pub_year": Facet(F(f"{p}pub_year")),
        "review_status": Facet(F(f"{p}review_status")),
        "certainty": Facet(_blank_is_null(f"{p}appraisal__certainty")),
        "risk_of_bias": Facet(_blank_is_null(f"{p}appraisal__risk_of_bias")),
        "journal": Facet(F(f"{p}journal_id"), label=F(f"{p}journal__title")),
        "concept": Facet(
            F(f"{p}appraisal__concepts__id"),
            label=F(f"{p}appraisal__concepts__name"),
            multi=True,
        ),
        "gap_category": Facet(F(f"{p}research_gaps__category"), multi=True),
        "limitation_category": Facet(F(f"{p}limitations__category"), multi=True),
        "publication_type": Facet(F(f"{p}publication_types__name"), multi=True),
        "mesh": Facet(F(f"{p}mesh_headings__descriptor__name"), multi=True),
    }


STUDY_FACETS = _facets()
# Curated items group by their own category and by their study's attributes.
LIMITATION_FACETS = {
    "category": Facet(F("category")),
    "raised_by": Facet(F("raised_by")),
    **{k: v for k, v in _facets("study__").items() if k != "limitation_category"},
}
RESEARCH_GAP_FACETS = {
    "category": Facet(F("category")),
    **{k: v for k, v in _facets("study__").items() if k != "gap_category"},
}
EFFECT_SIZE_FACETS = {
    "measure": Facet(F("measure")),
    "outcome_certainty": Facet(_blank_is_null("certainty")),
    **_facets("study__"),
}


def facet_counts(
    queryset: QuerySet,
    facets: dict[str, Facet],
    names: Sequence[str],
    *,
    limit: int = 1000,
) -> tuple[list[dict], bool]:
    """Rows of ``queryset`` counted by one or more facets: ``[{name: value, ...,
    "count": n}]``, largest first, at most ``limit`` buckets (and whether more exist)."""
    selected: dict[str, Expression] = {}
    renames: dict[str, str] = {}
    multi = False
    for i, name in enumerate(names):
        facet = facets[name]
        multi = multi or facet.multi
        selected[f"facet_{i}"] = facet.value
        renames[f"facet_{i}"] = name
        if facet.label is not None:
            selected[f"facet_{i}_label"] = facet.label
            renames[f"facet_{i}_label"] = f"{name}_label"
    keys = [key for key in selected if not key.endswith("_label")]
    rows = list(
        queryset.order_by()
        .values(**selected)
        .annotate(count=Count("pk", distinct=multi))
        .order_by("-count", *keys)[: limit + 1]
    )
    buckets = [
        {
            **{renames[key]: value for key, value in row.items() if key != "count"},
            "count": row["count"],
        }
        for row in rows[:limit]
    ]
    return buckets, len(rows) > limit
