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
    "RankedMatches",
    "Term",
    "build_search_document",
    "parse_web_search",
    "refresh_search_document",
    "search_filter",
]

SEARCH_CONFIG = "english"
# Must stay identical to the index expression in evidence/migrations/0002.
SEARCH_VECTOR_SQL = "to_tsvector('english'::regconfig, search_document)"
# How many matches ts_rank scores (the newest ones); the rest follow unranked. Each
# costs a re-parse of its document (~0.45 ms): 50 keeps a selective search near 25 ms.
RANK_CANDIDATES = 50
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


def _newest_first(queryset: QuerySet[Study]) -> QuerySet[Study]:
    # "+ 0" keeps any index from serving this order: otherwise PostgreSQL walks the
    # year index and re-parses each document it passes to test the match (cheap by its
    # cost model, seconds in fact), where the GIN bitmap reads the matches unparsed.
    return queryset.order_by((F("pub_year") + 0).desc(nulls_first=True), (F("id") + 0).desc())


class RankedMatches:
    """The studies of a filtered ``queryset`` that match ``text``, in relevance order:
    the ``RANK_CANDIDATES`` newest matches by ``ts_rank`` (ties newest first), then the
    other matches newest first.

    A page is a slice of that sequence. The first pages cost one scan of the matches
    (through the GIN index) and the ranking of the candidates; pages beyond the
    candidates cost one more scan.
    """

    def __init__(self, queryset: QuerySet[Study], text: str) -> None:
        self.queryset = queryset
        self.text = text
        self._candidates: list[int] | None = None
        self._more = False

    def candidates(self) -> list[int]:
        """Candidate ids, best first."""
        if self._candidates is None:
            limit = RANK_CANDIDATES
            newest = list(_newest_first(self.queryset).values_list("id", flat=True)[: limit + 1])
            self._more = len(newest) > limit
            newest = newest[:limit]
            ranked = (
                Study.objects.filter(pk__in=newest)
                .annotate(rank=_rank_expression(self.queryset, self.text))
                .order_by(
                    F("rank").desc(nulls_last=True), F("pub_year").desc(nulls_first=True), "-id"
                )
            )
            self._candidates = list(ranked.values_list("id", flat=True)) if newest else []
        return self._candidates

    def slice(self, offset: int, limit: int) -> tuple[list[int], bool]:
        """Up to ``limit`` ids from position ``offset``, and whether any follow."""
        candidates = self.candidates()
        ids = candidates[offset : offset + limit]
        if offset + limit < len(candidates):
            return ids, True
        if not self._more:
            return ids, False
        start = max(0, offset - len(candidates))
        wanted = limit - len(ids)
        if wanted == 0:
            return ids, True  # the candidates filled the page and more matches exist
        rest = _newest_first(self.queryset.exclude(pk__in=candidates))
        found = list(rest.values_list("id", flat=True)[start : start + wanted + 1])
        return ids + found[:wanted], len(found) > wanted


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
