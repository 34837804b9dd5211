"""What the Study and Work pages show of the citation graph around a work."""

from __future__ import annotations

from django.db.models import F
from django.urls import reverse

from evidence.admin.base import admin_change_url
from evidence.models import Citation, Work

# How many citing works a change page lists before linking to the full list.
CITED_BY_LIMIT = 100


def truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def work_row(work: Work) -> dict:
    return {
        "label": truncate(str(work.study or work.title or work.raw_text or "(untitled)"), 120),
        "year": work.year,
        "work_url": admin_change_url(work),
        "study_url": admin_change_url(work.study) if work.study_id else "",
        "pmid": work.pmid,
        "doi": work.doi,
        "pmcid": work.pmcid,
    }


def cited_by_context(work: Work | None) -> dict:
    """Two queries at most (the page and, past the limit, a count), however cited."""
    if work is None:
        return {"graph_work": None, "cited_by": [], "cited_by_more": 0}
    incoming = list(
        Citation.objects.filter(cited=work)
        .select_related("citing__study")
        .order_by(F("citing__year").desc(nulls_last=True), "pk")[: CITED_BY_LIMIT + 1]
    )
    more = 0
    if len(incoming) > CITED_BY_LIMIT:
        more = Citation.objects.filter(cited=work).count() - CITED_BY_LIMIT
        incoming = incoming[:CITED_BY_LIMIT]
    return {
        "graph_work": work,
        "graph_work_url": admin_change_url(work),
        "cited_by": [work_row(citation.citing) for citation in incoming],
        "cited_by_more": more,
        "cited_by_all_url": reverse("admin:evidence_citation_changelist")
        + f"?cited__id__exact={work.pk}",
    }
