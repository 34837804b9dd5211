"""The citation graph: works (in the database or not) and who cites whom.

A ``Work`` is a node: any article that appears in a reference list or a cited-by list,
and every study that takes part in the graph. It is found by PMID, DOI or PMCID, so a
work cited by many studies is one node, and when that work is imported later the node is
linked to the new study: no duplicate, no edge lost.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from evidence.models.bibliographic import (
    Study,
    clean_identifiers,
    identifier_constraints,
    year_constraint,
)


class Work(models.Model):
    # Unique where present (see Meta): most cited works have one or two of the three, and
    # a partial index skips the NULLs that a reference list would otherwise add to all.
    pmid = models.PositiveIntegerField("PMID", null=True, blank=True)
    doi = models.CharField("DOI", max_length=255, null=True, blank=True)
    pmcid = models.CharField("PMCID", max_length=16, null=True, blank=True)
    # What a source said of the work, kept from the first source that described it.
    title = models.TextField(blank=True)
    authors = models.TextField(blank=True)
    journal = models.CharField(max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    volume = models.CharField(max_length=64, blank=True)
    issue = models.CharField(max_length=64, blank=True)
    pages = models.CharField(max_length=64, blank=True)
    raw_text = models.TextField(blank=True)
    study = models.OneToOneField(
        Study,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work",
        help_text="The study in this database that this work is, once imported.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            year_constraint("year", "work_year_range"),
            *identifier_constraints("work"),
            *(
                models.UniqueConstraint(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"work_{name}_unique",
                    violation_error_message=f"A work with this {label} already exists.",
                )
                for name, label in (("pmid", "PMID"), ("doi", "DOI"), ("pmcid", "PMCID"))
            ),
        ]

    def __str__(self) -> str:
        if self.study_id:
            return str(self.study)
        ident = f"PMID {self.pmid}" if self.pmid else self.doi or self.pmcid or "no identifier"
        label = self.title or self.raw_text or "(untitled)"
        return f"{label[:70]} [{ident}]"

    def clean(self) -> None:
        clean_identifiers(self)


# What a curator edits on a graph node, in the admin and through the API alike.
WORK_EDITABLE_FIELDS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "authors",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "raw_text",
    "study",
)


class Citation(models.Model):
    """An edge: ``citing`` lists ``cited`` among its references."""

    # No single-column indexes: citation_unique_edge (citing, cited) and
    # citation_cited_idx (cited, citing) serve both directions, and every imported
    # reference would otherwise maintain two more indexes.
    citing = models.ForeignKey(
        Work,
        on_delete=models.CASCADE,
        related_name="outgoing",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    cited = models.ForeignKey(
        Work,
        on_delete=models.CASCADE,
        related_name="incoming",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    # Position in the citing work's reference list (1-based) when the source numbers it.
    position = models.PositiveIntegerField(null=True, blank=True)
    # The reference as printed in this citing work's list.
    raw_text = models.TextField(blank=True)

    class Meta:
        ordering = ["citing", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["citing", "cited"], name="citation_unique_edge"),
            models.CheckConstraint(
                condition=~Q(citing=F("cited")),
                name="citation_not_self",
                violation_error_message="A work cannot cite itself.",
            ),
        ]
        indexes = [
            # studies/{id}/cited-by/ and the cited_by filter start from the cited work.
            models.Index(fields=["cited", "citing"], name="citation_cited_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.citing_id} → {self.cited_id}"
