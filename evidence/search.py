"""Full-text search over ``Study.search_document`` (title, abstract, keywords and MeSH).

PostgreSQL: ``websearch_to_tsquery`` matched against ``SEARCH_VECTOR_SQL``, the very
expression of the GIN index created by migration 0002 (any other spelling, such as
Django's ``SearchVector`` with its ``COALESCE``, would not use the index), and ranked with
``ts_rank``. SQLite has no text search: the same web-search syntax is parsed here into
``icontains`` conditions, with a crude title-first score for relevance.

Ranking is bounded. The index answers *which* studies match without reading them, but
``ts_rank`` needs each row's tsvector, and with an expression index that means parsing
the document again (about half a millisecond per abstract). So only the
``RANK_CANDIDATES`` most recent matches are ranked; the other matches follow them,
newest first. For a selective term every match is ranked; for a term that matches a
third of 100,000 studies the page still comes back in a bounded time. A stored tsvector
column (a generated column with its own GIN index) would make ranking cheap enough to
lift the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connections
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast

from evidence.models import MeshDescriptor, Study
from evidence.services import values

__all__ = [
    "MAX_QUERY_LENGTH",
    "RANK_CANDIDATES",
    "SEARCH_CONFIG",
    "SEARCH_VECTOR_SQL",
    "Term",
    "build_search_document",
    "parse_web_search",
    "refresh_search_document",
    "search_filter",
    "search_rank",
]

SEARCH_CONFIG = "english"
# Must stay identical to the index expression in evidence/migrations/0002.
SEARCH_VECTOR_SQL = "to_tsvector('english'::regconfig, search_document)"
# How many matches ts_rank scores (the newest ones); the rest follow unranked.
RANK_CANDIDATES = 200
MAX_QUERY_LENGTH = 500


class SearchDocumentVector(Func):
    """``to_tsvector('english'::regconfig, search_document)``, spelled like the index."""

    template = "to_tsvector('english'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()

    def __init__(self, column: str = "search_document") -> None:
        super().__init__(F(column))


@dataclass(frozen=True, slots=True)
class Term:
    """A word or quoted phrase of a web-search query, possibly negated (``-term``)."""

    text: str
    negated: bool = False


_TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_web_search(text: str) -> list[list[Term]]:
    """Parse web-search syntax into OR-ed groups of AND-ed terms.

    The grammar is PostgreSQL's ``websearch_to_tsquery``: words are AND-ed, ``OR``
    separates alternatives and binds loosest (``a b OR c`` is ``(a AND b) OR c``), a
    leading ``-`` negates, double quotes make a phrase (an unterminated quote runs to
    the end). ``OR`` at either end and a lone ``-`` are ignored, as PostgreSQL does.
    """
    groups: list[list[Term]] = [[]]
    for match in _TOKEN_RE.finditer(text):
        minus, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word.lower() == "or":
                groups.append([])
                continue
            negated = word.startswith("-")
            word = word.lstrip("-")
            if not word:
                continue
            groups[-1].append(Term(word, negated))
        else:
            phrase = " ".join(phrase.split())
            if phrase:
                groups[-1].append(Term(phrase, bool(minus)))
    return [group for group in groups if group]


def _is_postgres(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _web_search_query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def _fallback_condition(groups: list[list[Term]]) -> Q:
    condition = Q(pk__in=[])
    for group in groups:
        clause = Q()
        for term in group:
            contains = Q(search_document__icontains=term.text)
            clause &= ~contains if term.negated else contains
        condition |= clause
    return condition


def search_filter(queryset: QuerySet[Study], text: str) -> QuerySet[Study]:
    """The studies of ``queryset`` whose search document matches ``text``."""
    if _is_postgres(queryset):
        return queryset.alias(_search_vector=SearchDocumentVector()).filter(
            _search_vector=_web_search_query(text)
        )
    return queryset.filter(_fallback_condition(parse_web_search(text)))


def _rank_expression(queryset: QuerySet[Study], text: str):
    if _is_postgres(queryset):
        # ts_rank is a float4; as double precision its value survives the trip through
        # a cursor exactly (the float4's text form would parse to another double).
        return Cast(SearchRank(SearchDocumentVector(), _web_search_query(text)), FloatField())
    # SQLite: a positive term found in the title scores 2, elsewhere 1.
    score = Value(0.0, output_field=FloatField())
    for group in parse_web_search(text):
        for term in group:
            if term.negated:
                continue
            score = score + Case(
                When(title__icontains=term.text, then=Value(2.0)),
                When(search_document__icontains=term.text, then=Value(1.0)),
                default=Value(0.0),
                output_field=FloatField(),
            )
    return score


def search_rank(
    queryset: QuerySet[Study], text: str, *, candidates: int | None = None
) -> QuerySet[Study]:
    """Annotate ``rank`` on ``queryset`` (already filtered by ``search_filter``).

    Only the ``candidates`` newest studies of the queryset get a rank; the others get
    ``rank=None`` and should be ordered after them. The candidates are chosen with an
    ORDER BY on ``pub_year + 0`` so that no index can serve it: otherwise PostgreSQL
    walks the year index and re-parses each document it passes to test the match
    (cheap by its cost model, seconds in fact for a term in a third of the rows), where
    the GIN bitmap reads the matches without parsing any.
    """
    if candidates is None:
        candidates = RANK_CANDIDATES
    newest = queryset.order_by(
        (F("pub_year") + 0).desc(nulls_first=True),
        (F("id") + 0).desc(),
    ).values("id")[:candidates]
    return queryset.annotate(
        rank=Case(
            When(id__in=newest, then=_rank_expression(queryset, text)),
            default=None,
            output_field=FloatField(),
        )
    )


def build_search_document(study: Study) -> str:
    """The study's search document as the import service writes it, from the study's
    current title, abstract, keywords and MeSH headings (for edits made after import)."""
    mesh = (
        list(
            MeshDescriptor.objects.filter(headings__study=study)
            .order_by("name")
            .values_list("name", flat=True)
        )
        if study.pk
        else []
    )
    keywords = [str(keyword) for keyword in study.keywords or []]
    return values.search_document(study.title, study.abstract, keywords, mesh)


def refresh_search_document(study_id: int) -> None:
    """Rewrite one study's search document after an edit outside the import service
    (no save(): no history row, no updated_at bump for a derived column)."""
    study = Study.objects.filter(pk=study_id).only("title", "abstract", "keywords").first()
    if study is not None:
        Study.objects.filter(pk=study_id).update(search_document=build_search_document(study))
