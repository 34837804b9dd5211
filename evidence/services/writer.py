"""Batch writes of parsed records: matching, creation, updates and the citation graph.

A batch costs a fixed number of queries whatever its size (lookups by identifier with
IN lists, one COPY per table), so an import of a baseline file scales with rows, not
with round trips. Per-record queries happen only on rare paths: merging two graph
nodes that turn out to be the same work, and attaching an identifier-less evidence
summary by its abstract.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from django.db import connection
from django.db.models import Count, Model, Q
from django.db.models.functions import Lower
from django.utils import timezone

from evidence.identifiers import abstract_digest
from evidence.importers.records import (
    AppraisalRecord,
    DeletedCitations,
    ReportingState,
    StudyRecord,
    WorkRecord,
)
from evidence.models import (
    Appraisal,
    Author,
    Authorship,
    Citation,
    Concept,
    EffectSize,
    Journal,
    Limitation,
    MeshDescriptor,
    PublicationType,
    ResearchGap,
    ReviewStatus,
    Study,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS
from evidence.models.bibliographic import MAX_YEAR, MIN_YEAR
from evidence.services import values
from evidence.services.bulk import (
    allocate_ids,
    chunked,
    column_names,
    insert_missing,
    insert_rows,
    select_in,
    update_rows,
)

if TYPE_CHECKING:
    from evidence.models import ImportRun
    from evidence.services.importing import ImportReport

STUDY_FIELDS = (
    "id",
    "pmid",
    "doi",
    "pmcid",
    "title",
    "title_key",
    "abstract",
    "abstract_digest",
    "abstract_sections",
    "language",
    "journal",
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
    "import_run",
    "import_fingerprint",
    "search_document",
    "created_at",
    "updated_at",
)
# Bibliographic fields an update may change: curated fields (review status, appraisal)
# are never in this list.
UPDATABLE_FIELDS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "abstract_sections",
    "language",
    "journal_id",
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
)
APPRAISAL_FIELDS = (
    "study",
    "design",
    *(name for field in REPORTED_FIELDS for name in (f"{field}_state", field)),
    "main_result",
    "practice_relevance",
    "risk_of_bias",
    "risk_of_bias_tool",
    "certainty",
    "notes",
    "updated_at",
)
AUTHORSHIP_FIELDS = (
    "study",
    "author",
    "position",
    "last_name",
    "fore_name",
    "initials",
    "collective_name",
    "orcid",
    "affiliations",
)
WORK_FIELDS = (
    "id",
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
# What a node says of its work (title ... raw_text), apart from identifiers and study.
_DESCRIPTION = slice(WORK_FIELDS.index("title"), WORK_FIELDS.index("study"))


# Small imports (under 4 batches) never pay for ANALYZE; see _refresh_statistics.
ANALYZE_FIRST_AFTER_BATCHES = 4
# The columns the batch lookups filter or join on. ANALYZE gets them as a column list:
# without one it also samples every index expression, and the full-text index's
# to_tsvector over ~30,000 sampled studies cost more server time than the lookups save.
LOOKUP_COLUMNS = {
    Study: ("pmid", "doi", "pmcid", "title_key", "pub_year"),
    Work: ("pmid", "doi", "pmcid", "study"),
    Citation: ("citing", "cited"),
    Author: ("key",),
    Authorship: ("study", "author"),
    StudyMeshHeading: ("study", "descriptor"),
}


KNOWN_COLUMNS = ("id", "pmid", "import_fingerprint", "doi", "pmcid", "title_key", "pub_year")


@dataclass
class _Known:
    """What matching needs to know about a study already in the database."""

    id: int
    pmid: int | None
    doi: str | None
    pmcid: str | None
    title_key: str = ""
    pub_year: int | None = None
    fingerprint: str = ""


@dataclass
class _WorkIndex:
    """Works of the graph found so far in this batch, by each identifier."""

    by_pmid: dict[int, int] = field(default_factory=dict)
    by_doi: dict[str, int] = field(default_factory=dict)
    by_pmcid: dict[str, int] = field(default_factory=dict)
    info: dict[int, dict] = field(default_factory=dict)

    def add(
        self,
        work_id: int,
        pmid: int | None,
        doi: str | None,
        pmcid: str | None,
        study_id: int | None,
    ) -> None:
        self.info[work_id] = {"pmid": pmid, "doi": doi, "pmcid": pmcid, "study_id": study_id}
        if pmid:
            self.by_pmid.setdefault(pmid, work_id)
        if doi:
            self.by_doi.setdefault(doi, work_id)
        if pmcid:
            self.by_pmcid.setdefault(pmcid, work_id)

    def find(self, pmid: int | None, doi: str | None, pmcid: str | None) -> list[int]:
        found: list[int] = []
        for key, table in ((pmid, self.by_pmid), (doi, self.by_doi), (pmcid, self.by_pmcid)):
            if key and key in table and table[key] not in found:
                found.append(table[key])
        return found

    def forget(self, work_id: int) -> None:
        info = self.info.pop(work_id, None)
        if not info:
            return
        for key, table in (
            (info["pmid"], self.by_pmid),
            (info["doi"], self.by_doi),
            (info["pmcid"], self.by_pmcid),
        ):
            if key and table.get(key) == work_id:
                del table[key]


def _pmid(value: str) -> int | None:
    return int(value) if value else None


def _reported_kwargs(appraisal: AppraisalRecord) -> dict[str, object]:
    data: dict[str, object] = {"design": appraisal.design}
    for name in REPORTED_FIELDS:
        reported = getattr(appraisal, name)
        state = str(reported.state)
        data[f"{name}_state"] = state
        if name == "sample_size":
            data[name] = int(reported.value) if state == ReportingState.REPORTED else None
        else:
            data[name] = reported.value if state == ReportingState.REPORTED else ""
    for name in (
        "main_result",
        "practice_relevance",
        "risk_of_bias",
        "risk_of_bias_tool",
        "certainty",
        "notes",
    ):
        data[name] = getattr(appraisal, name)
    return data


class BatchWriter:
    def __init__(
        self, *, run: ImportRun, report: ImportReport, on_duplicate: str, source_name: str
    ) -> None:
        self.run = run
        self.report = report
        self.on_duplicate = on_duplicate
        self.source_name = source_name[:255]
        self.now = timezone.now()
        # Lookup caches for the run: vocabularies repeat across records.
        self.journal_ids: dict[str, int] = {}
        self.author_ids: dict[str, int] = {}
        self.mesh_ids: dict[str, int] = {}
        self.pubtype_ids: dict[str, int] = {}
        self.concept_ids: dict[tuple[str, str], int] = {}
        # Studies created or updated by this run: a later record matching one is a
        # duplicate within the source ("merged").
        self.touched: set[int] = set()
        self.batches_created = 0
        # Derived values of the batch being written, by id() of their record.
        self.derived: dict[int, values.Derived] = {}
        self.next_analyze = ANALYZE_FIRST_AFTER_BATCHES

    # ------------------------------------------------------------------ entry points

    def write(
        self, records: list[StudyRecord], derived: list[values.Derived] | None = None
    ) -> None:
        """Write a batch; ``derived`` (one per record) is ``values.derive`` of each, when
        the parsing side computed it already."""
        if not records:
            return
        if derived is not None:
            self.derived.update(zip(map(id, records), derived, strict=True))
        try:
            self._write(records)
        finally:
            self.derived.clear()

    def known_digests(
        self,
        pairs: list[tuple[int, str]],
        pending: Iterable[tuple[StudyRecord, values.Derived | None]] = (),
    ) -> set[str]:
        """The digests of ``pairs`` (PMID, source digest) that the study with that PMID
        was last imported from, unless this run has written that study already (its
        content may differ from what the digest says until the run ends).

        ``pending`` are the records read before the query and not written yet. A study
        one of them could match (it shares a PMID, DOI, PMCID or title and year with
        it) is not answered as known: that record may change it. The consumer need not
        write them first, so parsing and writing keep overlapping. Not known is always
        a safe answer: the article is then read and compared like any other.
        """
        claimed: set[str] = set()
        for record, derived in pending:
            keys = self._match_keys(record, derived)
            if not keys:
                return set()  # matched by its abstract alone: could be any study
            claimed |= keys
        asked = set(pairs)
        known: set[str] = set()
        for study_id, pmid, digest, doi, pmcid, title_key, pub_year in select_in(
            Study, "pmid", sorted({pmid for pmid, _ in pairs}), KNOWN_COLUMNS
        ):
            if study_id in self.touched or (pmid, digest) not in asked:
                continue
            keys = {f"pmid:{pmid}", f"doi:{doi}", f"pmcid:{pmcid}"}
            if title_key:
                keys.add(f"title:{title_key}|{pub_year}")
            if not keys & claimed:
                known.add(digest)
        return known

    def _match_keys(self, record: StudyRecord, derived: values.Derived | None) -> set[str]:
        """Every key ``_match`` could find a study by for ``record``."""
        keys = {
            f"{name}:{value}"
            for name, value in (
                ("pmid", _pmid(record.pmid)),
                ("doi", record.doi),
                ("pmcid", record.pmcid),
            )
            if value
        }
        title_key = (derived or values.derive(record, full=False)).title_key
        if title_key:
            keys.add(f"title:{title_key}|{record.pub_date.year}")
        return keys

    def _d(self, record: StudyRecord) -> values.Derived:
        """The record's derived values for matching, computed here if the parser did not."""
        found = self.derived.get(id(record))
        if found is None:
            found = self.derived[id(record)] = values.derive(record, full=False)
        return found

    def _full(self, record: StudyRecord) -> values.Derived:
        """The record's derived values for writing it: only new or changed records."""
        found = self._d(record)
        return found if found.complete else values.derive(record, known=found)

    def _write(self, records: list[StudyRecord]) -> None:
        known = self._lookup(records)
        creates: list[StudyRecord] = []
        updates: list[tuple[StudyRecord, _Known]] = []
        deferred: list[StudyRecord] = []
        pending: set[str] = set()
        matched: set[int] = set()
        for record in records:
            match = self._match(record, known)
            if match is not None:
                if match.id in matched:
                    # Same study twice in one batch: the second copy is compared with
                    # what the first one wrote, as it would be in a later batch.
                    deferred.append(record)
                    continue
                matched.add(match.id)
                updates.append((record, match))
                continue
            keys = self._keys(record)
            if keys & pending:
                deferred.append(record)  # same work twice in one batch: merge after insert
                continue
            pending |= keys
            creates.append(record)
        updated = self._update(updates)
        new_ids = self._new_study_ids(creates)
        # The graph's reads happen before the new studies are written, its pure Python
        # part while PostgreSQL inserts them (their search index is the costliest
        # insert of a batch), and its writes after them, which reference them.
        linking = self._link_graph([*zip(creates, new_ids, strict=True), *updated])
        next(linking, None)
        self._create(creates, new_ids, during=lambda: next(linking, None))
        for _ in linking:
            pass
        if creates:
            self._refresh_statistics()
        if deferred:
            self._write(deferred)

    def _refresh_statistics(self) -> None:
        """ANALYZE the growing tables after 4, 8, 16... batches of new studies.

        An import is one transaction, so autovacuum never sees its rows and PostgreSQL
        keeps planning the batch lookups with the statistics the tables had before it
        (often none): lookups degrade and each batch gets slower than the last. ANALYZE
        inside the transaction counts its own new rows; at geometric intervals its cost
        stays a bounded share of a large import and small files never pay it.
        """
        self.batches_created += 1
        if connection.vendor != "postgresql" or self.batches_created < self.next_analyze:
            return
        self.next_analyze *= 2
        with connection.cursor() as cursor:
            for model, fields in LOOKUP_COLUMNS.items():
                columns = ", ".join(f'"{name}"' for name in column_names(model, fields))
                cursor.execute(f'ANALYZE "{model._meta.db_table}" ({columns})')

    def delete(self, item: DeletedCitations) -> None:
        """Apply PubMed's DeleteCitation, keeping curated work (it is excluded instead)."""
        pmids = [int(p) for p in item.pmids if p]
        for chunk in chunked(pmids):
            studies = Study.objects.filter(pmid__in=chunk).select_related("appraisal")
            for study in studies:
                curated = study.review_status != ReviewStatus.DRAFT or (
                    hasattr(study, "appraisal") and study.appraisal.design
                )
                if curated:
                    Study.objects.filter(pk=study.pk).update(review_status=ReviewStatus.EXCLUDED)
                    self.report.add(
                        "warning",
                        item.location,
                        f"PMID {study.pmid} was deleted from PubMed; it has curation, so it "
                        "was marked excluded instead of deleted",
                    )
                else:
                    study.delete()
                    self.report.deleted += 1

    # ------------------------------------------------------------------ matching

    def _keys(self, record: StudyRecord) -> set[str]:
        keys = set()
        if record.pmid:
            keys.add(f"pmid:{record.pmid}")
        if record.doi:
            keys.add(f"doi:{record.doi}")
        if record.pmcid:
            keys.add(f"pmcid:{record.pmcid}")
        if not keys:
            title_key = self._d(record).title_key
            if title_key:
                keys.add(f"title:{title_key}|{record.pub_date.year}")
            else:
                keys.add(f"abstract:{abstract_digest(record.abstract)}")
        return keys

    def _lookup(self, records: list[StudyRecord]) -> dict[str, _Known]:
        """Fetch the studies any record of the batch could match, keyed like _keys."""
        pmids = sorted({int(r.pmid) for r in records if r.pmid})
        dois = sorted({r.doi for r in records if r.doi})
        pmcids = sorted({r.pmcid for r in records if r.pmcid})
        title_keys = sorted({self._d(r).title_key for r in records if r.title} - {""})
        columns = ("id", "pmid", "doi", "pmcid", "title_key", "pub_year", "import_fingerprint")
        found: dict[int, _Known] = {}
        for field_name, wanted in (
            ("pmid", pmids),
            ("doi", dois),
            ("pmcid", pmcids),
            ("title_key", title_keys),
        ):
            for row in select_in(Study, field_name, wanted, columns):
                found[row[0]] = _Known(*row)
        known: dict[str, _Known] = {}
        for study in found.values():
            if study.pmid:
                known[f"pmid:{study.pmid}"] = study
            if study.doi:
                known[f"doi:{study.doi}"] = study
            if study.pmcid:
                known[f"pmcid:{study.pmcid}"] = study
            if study.title_key:
                known.setdefault(f"title:{study.title_key}|{study.pub_year}", study)
        # Evidence summaries: only an abstract to go by.
        digests = sorted(
            {
                abstract_digest(record.abstract)
                for record in records
                if not (record.pmid or record.doi or record.pmcid or record.title)
            }
            - {""}
        )
        for *row, digest in select_in(
            Study, "abstract_digest", digests, (*columns, "abstract_digest")
        ):
            # The oldest study with that abstract, as the ids come in no set order.
            study = _Known(*row)
            current = known.get(f"abstract:{digest}")
            if current is None or study.id < current.id:
                known[f"abstract:{digest}"] = study
        return known

    @staticmethod
    def _compatible(record: StudyRecord, study: _Known) -> bool:
        """A title match must not contradict an identifier both sides have."""
        if record.pmid and study.pmid and int(record.pmid) != study.pmid:
            return False
        if record.doi and study.doi and record.doi != study.doi:
            return False
        return not (record.pmcid and study.pmcid and record.pmcid != study.pmcid)

    def _match(self, record: StudyRecord, known: dict[str, _Known]) -> _Known | None:
        for key in (
            f"pmid:{record.pmid}" if record.pmid else "",
            f"doi:{record.doi}" if record.doi else "",
            f"pmcid:{record.pmcid}" if record.pmcid else "",
        ):
            if key and key in known:
                return known[key]
        title_key = self._d(record).title_key
        if title_key:
            study = known.get(f"title:{title_key}|{record.pub_date.year}")
            if study is not None and self._compatible(record, study):
                return study
        elif not (record.pmid or record.doi or record.pmcid):
            return known.get(f"abstract:{abstract_digest(record.abstract)}")
        return None

    # ------------------------------------------------------------------ vocabularies

    def _resolve(self, model, cache: dict, wanted: dict[str, dict], key_field: str) -> None:
        """Fill ``cache`` (key -> id) for ``wanted`` (key -> field values), creating rows."""
        missing = [key for key in wanted if key not in cache]
        if not missing:
            return
        cache.update(select_in(model, key_field, missing, (key_field, "id")))
        to_create = [{key_field: key, **wanted[key]} for key in missing if key not in cache]
        if to_create:
            insert_missing(model, to_create)
            created = [row[key_field] for row in to_create]
            cache.update(select_in(model, key_field, created, (key_field, "id")))

    def _journal_key(self, record: StudyRecord) -> str | None:
        return self._d(record).journal_key

    def _resolve_journals(self, records: Iterable[StudyRecord]) -> None:
        wanted: dict[str, dict] = {}
        for record in records:
            key = self._journal_key(record)
            if key and key not in self.journal_ids and key not in wanted:
                journal = record.journal
                wanted[key] = {
                    "title": (journal.title or journal.iso_abbreviation)[:500],
                    "iso_abbreviation": journal.iso_abbreviation[:255],
                    "issn": journal.issn,
                    "eissn": journal.eissn,
                    "nlm_id": journal.nlm_id[:32],
                    "publisher": journal.publisher[:255],
                }
        if not wanted:
            return
        # A journal first seen with ISSN, now named only by title (RIS without SN), or
        # the reverse, is the same journal: look it up by ISSN and by title too.
        issns = {v[k] for v in wanted.values() for k in ("issn", "eissn") if v[k]}
        titles = {v["title"].lower() for v in wanted.values()}
        by_issn: dict[str, int] = {}
        by_title: dict[str, int] = {}
        for chunk in chunked(sorted(issns)):
            for jid, issn, eissn in Journal.objects.filter(
                Q(issn__in=chunk) | Q(eissn__in=chunk)
            ).values_list("id", "issn", "eissn"):
                # Not the empty one: it would match every journal lacking that ISSN.
                for known in (issn, eissn):
                    if known:
                        by_issn.setdefault(known, jid)
        for chunk in chunked(sorted(titles)):
            for jid, title in (
                Journal.objects.annotate(t=Lower("title"))
                .filter(t__in=chunk)
                .values_list("id", "t")
            ):
                by_title.setdefault(title, jid)
        for key, data in list(wanted.items()):
            jid = by_issn.get(data["issn"]) or by_issn.get(data["eissn"])
            if jid is None and not (data["issn"] or data["eissn"]):
                jid = by_title.get(data["title"].lower())
            if jid is not None:
                self.journal_ids[key] = jid
                del wanted[key]
        self._resolve(Journal, self.journal_ids, wanted, "key")

    def _resolve_vocabularies(self, records: list[StudyRecord]) -> None:
        self._resolve_journals(records)
        authors: dict[str, dict] = {}
        mesh: dict[str, dict] = {}
        pubtypes: dict[str, dict] = {}
        for record in records:
            derived = self._full(record)
            for fields, key, _ in derived.authors:
                if key not in self.author_ids:
                    authors.setdefault(key, fields)
            for name, ui in derived.mesh_uis.items():
                if name not in self.mesh_ids:
                    mesh.setdefault(name, {"ui": ui})
            for name, ui in derived.publication_types.items():
                if name not in self.pubtype_ids:
                    pubtypes.setdefault(name, {"ui": ui})
        self._resolve(Author, self.author_ids, authors, "key")
        self._resolve(MeshDescriptor, self.mesh_ids, mesh, "name")
        self._resolve(PublicationType, self.pubtype_ids, pubtypes, "name")

    def _concept_ids(self, appraisal: AppraisalRecord) -> list[int]:
        ids = []
        for concept in appraisal.concepts:
            name = concept.name.strip()[:255]
            if not name:
                continue
            key = (concept.kind, name)
            if key not in self.concept_ids:
                obj, _ = Concept.objects.get_or_create(kind=concept.kind, name=name)
                self.concept_ids[key] = obj.id
            if self.concept_ids[key] not in ids:
                ids.append(self.concept_ids[key])
        return ids

    # ------------------------------------------------------------------ row builders

    def _study_values(self, record: StudyRecord) -> dict[str, object]:
        derived = self._full(record)
        journal_key = derived.journal_key
        return {
            **derived.study,
            "journal_id": self.journal_ids.get(journal_key) if journal_key else None,
        }

    def _authorship_rows(self, study_id: int, record: StudyRecord) -> list[tuple]:
        return [
            (
                study_id,
                self.author_ids[key],
                position,
                fields["last_name"],
                fields["fore_name"],
                fields["initials"],
                fields["collective_name"],
                fields["orcid"],
                affiliations,
            )
            for position, (fields, key, affiliations) in enumerate(self._full(record).authors, 1)
        ]

    def _mesh_rows(self, study_id: int, record: StudyRecord) -> list[tuple]:
        rows: dict[int, tuple] = {}
        for name, (major, qualifiers) in self._full(record).mesh.items():
            descriptor_id = self.mesh_ids[name]
            if descriptor_id not in rows:  # names cut to the same 255 characters
                rows[descriptor_id] = (study_id, descriptor_id, major, values.json_text(qualifiers))
        return list(rows.values())

    def _pubtype_rows(self, study_id: int, record: StudyRecord) -> list[tuple]:
        ids = dict.fromkeys(self.pubtype_ids[name] for name in self._full(record).publication_types)
        return [(study_id, pid) for pid in ids]

    def _appraisal_row(self, study_id: int, appraisal: AppraisalRecord | None) -> tuple:
        data = _reported_kwargs(appraisal or AppraisalRecord())
        return (study_id, *(data[name] for name in APPRAISAL_FIELDS[1:-1]), self.now)

    def _curated_children(self, items: list[tuple[int, StudyRecord, dict[str, bool]]]) -> None:
        """Limitations, research gaps, effect sizes and concepts of many studies at once.

        ``items`` are (study id, record, which kinds to add); one INSERT per kind for the
        whole batch, not per study.
        """
        limitations, gaps, effects, concept_links = [], [], [], []
        for study_id, record, kinds in items:
            if kinds.get("limitations", True):
                limitations += [
                    Limitation(
                        study_id=study_id,
                        category=item.category,
                        description=item.description,
                        raised_by=item.raised_by,
                        order=index,
                    )
                    for index, item in enumerate(record.limitations, 1)
                ]
            if kinds.get("gaps", True):
                gaps += [
                    ResearchGap(
                        study_id=study_id,
                        category=item.category,
                        description=item.description,
                        future_direction=item.future_direction,
                        order=index,
                    )
                    for index, item in enumerate(record.research_gaps, 1)
                ]
            if kinds.get("effects", True):
                effects += [
                    EffectSize(
                        study_id=study_id,
                        outcome=item.outcome[:500],
                        measure=item.measure,
                        value=item.value,
                        ci_lower=item.ci_lower,
                        ci_upper=item.ci_upper,
                        ci_level=item.ci_level,
                        p_value=item.p_value,
                        n_intervention=item.n_intervention,
                        n_comparator=item.n_comparator,
                        timepoint=item.timepoint[:255],
                        certainty=item.certainty,
                        note=item.note,
                        order=index,
                    )
                    for index, item in enumerate(record.effect_sizes, 1)
                ]
            if kinds.get("concepts", False) and record.appraisal:
                through = Appraisal.concepts.through
                concept_links += [
                    through(appraisal_id=study_id, concept_id=concept_id)
                    for concept_id in self._concept_ids(record.appraisal)
                ]
        for model, rows in ((Limitation, limitations), (ResearchGap, gaps), (EffectSize, effects)):
            if rows:
                model.objects.bulk_create(rows, batch_size=500)
        if concept_links:
            Appraisal.concepts.through.objects.bulk_create(
                concept_links, ignore_conflicts=True, batch_size=500
            )

    # ------------------------------------------------------------------ create

    def _new_study_ids(self, records: list[StudyRecord]) -> list[int]:
        """Ids for the studies ``records`` will create; their vocabularies resolved."""
        if not records:
            return []
        self._resolve_vocabularies(records)
        return allocate_ids(Study, len(records))

    def _create(
        self, records: list[StudyRecord], ids: list[int], *, during: Callable[[], object]
    ) -> None:
        """Write new studies and their rows; ``during`` runs while the studies load."""
        if not records:
            during()
            return
        ops = connection.ops
        now = ops.adapt_datetimefield_value(self.now)
        study_rows = [
            self._study_row(study_id, record, now)
            for study_id, record in zip(ids, records, strict=True)
        ]
        appraisal_rows, authorships, mesh_rows, pubtype_rows = [], [], [], []

        def build_child_rows() -> None:  # no query: runs while the studies load
            for study_id, record in zip(ids, records, strict=True):
                appraisal_rows.append(self._appraisal_row(study_id, record.appraisal))
                authorships.extend(self._authorship_rows(study_id, record))
                mesh_rows.extend(self._mesh_rows(study_id, record))
                pubtype_rows.extend(self._pubtype_rows(study_id, record))
            during()

        insert_rows(Study, STUDY_FIELDS, study_rows, during=build_child_rows)
        curated: list[tuple[int, StudyRecord]] = []
        for study_id, record in zip(ids, records, strict=True):
            if not record.title and not (record.pmid or record.doi or record.pmcid):
                self.report.add(
                    "warning",
                    record.location,
                    "no title or identifier: created as a draft that needs curation",
                )
            if (record.appraisal and record.appraisal.concepts) or (
                record.limitations or record.research_gaps or record.effect_sizes
            ):
                curated.append((study_id, record))
            self._report_warnings(record)
            self.touched.add(study_id)
        appraisal_rows = [(*row[:-1], now) for row in appraisal_rows]
        insert_rows(Appraisal, APPRAISAL_FIELDS, appraisal_rows)
        insert_rows(Authorship, AUTHORSHIP_FIELDS, authorships)
        insert_rows(StudyMeshHeading, ("study", "descriptor", "is_major", "qualifiers"), mesh_rows)
        insert_rows(Study.publication_types.through, ("study", "publicationtype"), pubtype_rows)
        self._curated_children(
            [(study_id, record, {"concepts": True}) for study_id, record in curated]
        )
        self.report.created += len(records)

    def _study_row(self, study_id: int, record: StudyRecord, now: object) -> tuple:
        data = self._study_values(record)
        derived = self._d(record)
        return (
            study_id,
            data["pmid"],
            data["doi"],
            data["pmcid"],
            record.title,
            derived.title_key,
            record.abstract,
            data["abstract_digest"],
            data["abstract_sections_json"],
            data["language"],
            data["journal_id"],
            data["volume"],
            data["issue"],
            data["pages"],
            connection.ops.adapt_datefield_value(data["pub_date"]),
            data["pub_date_precision"],
            data["pub_date_text"],
            data["pub_year"],
            data["keywords_json"],
            data["related_articles_json"],
            data["grants_json"],
            data["funding_statement"],
            data["conflict_of_interest"],
            data["is_retracted"],
            data["citation_count"],
            record.review_status or ReviewStatus.DRAFT,
            self.source_name,
            now,
            self.run.pk,
            derived.fingerprint,
            data["search_document"],
            now,
            now,
        )

    def _report_warnings(self, record: StudyRecord) -> None:
        for warning in record.warnings:
            self.report.add("warning", record.location, warning)

    # ------------------------------------------------------------------ update

    def _update(self, pairs: list[tuple[StudyRecord, _Known]]) -> list[tuple[StudyRecord, int]]:
        if not pairs:
            return []
        todo: list[tuple[StudyRecord, _Known, bool]] = []
        for record, known in pairs:
            merged = known.id in self.touched
            if merged:
                self.report.merged += 1
                self.report.add(
                    "info",
                    record.location,
                    f"same study as an earlier record of this file (id {known.id})",
                )
            if self._d(record).fingerprint == known.fingerprint:
                if not merged:
                    self.report.unchanged += 1
                continue
            if self.on_duplicate == "skip" and not merged:
                self.report.skipped += 1
                continue
            todo.append((record, known, merged))
        if not todo:
            return []
        self._resolve_vocabularies([record for record, _, _ in todo])
        study_ids = [known.id for _, known, _ in todo]
        studies = Study.objects.in_bulk(study_ids)
        appraisals = Appraisal.objects.prefetch_related("concepts").in_bulk(study_ids)
        existing_authors = defaultdict(list)
        existing_mesh: dict[int, list] = defaultdict(list)
        existing_types: dict[int, set] = defaultdict(set)
        for chunk in chunked(study_ids):
            for row in (
                Authorship.objects.filter(study_id__in=chunk)
                .order_by("study", "position")
                .values_list(
                    "study_id",
                    "author_id",
                    "position",
                    "last_name",
                    "fore_name",
                    "initials",
                    "collective_name",
                    "orcid",
                    "affiliations",
                )
            ):
                existing_authors[row[0]].append(row)
            for study_id, descriptor_id, major, qualifiers, name in StudyMeshHeading.objects.filter(
                study_id__in=chunk
            ).values_list(
                "study_id", "descriptor_id", "is_major", "qualifiers", "descriptor__name"
            ):
                existing_mesh[study_id].append((descriptor_id, major, qualifiers, name))
            for study_id, type_id in Study.publication_types.through.objects.filter(
                study_id__in=chunk
            ).values_list("study_id", "publicationtype_id"):
                existing_types[study_id].add(type_id)
        child_counts = self._child_counts(study_ids)
        linked: list[tuple[StudyRecord, int]] = []
        children: list[tuple[int, StudyRecord, dict[str, bool]]] = []
        study_updates: dict[int, dict[str, object]] = {}
        appraisal_updates: dict[int, dict[str, object]] = {}
        for record, known, merged in todo:
            study = studies[known.id]
            changed = self._apply_update(
                study,
                record,
                appraisals.get(known.id),
                existing_authors[known.id],
                existing_mesh[known.id],
                existing_types[known.id],
                child_counts,
                children,
                (study_updates, appraisal_updates),
            )
            if changed and not merged:
                self.report.updated += 1
            elif not changed and not merged:
                self.report.unchanged += 1
            self._report_warnings(record)
            self.touched.add(known.id)
            linked.append((record, known.id))
        self._write_updates(Study, study_updates)
        self._write_updates(Appraisal, appraisal_updates)
        self._curated_children(children)
        return linked

    @staticmethod
    def _write_updates(model: type[Model], updates: dict[int, dict[str, object]]) -> None:
        """One UPDATE per set of changed columns, not one per row: a PubMed update file
        revises thousands of studies (a curated JSON file as many appraisals), and a
        statement each cost ~1 ms."""
        groups: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
        for pk, update in updates.items():
            names = tuple(sorted(update))
            groups[names].append((*(update[name] for name in names), pk))
        for names, rows in groups.items():
            fields = [model._meta.get_field(name) for name in names]
            update_rows(model, names, [_db_row(fields, row) for row in rows])

    @staticmethod
    def _child_counts(study_ids: list[int]) -> dict[tuple[str, int], int]:
        counts: dict[tuple[str, int], int] = {}
        for name, model in (
            ("limitations", Limitation),
            ("gaps", ResearchGap),
            ("effects", EffectSize),
        ):
            for chunk in chunked(study_ids):
                for study_id, count in (
                    model.objects.filter(study_id__in=chunk)
                    .values("study_id")
                    .annotate(n=Count("id"))
                    .values_list("study_id", "n")
                ):
                    counts[(name, study_id)] = count
        return counts

    def _apply_update(
        self,
        study: Study,
        record: StudyRecord,
        appraisal: Appraisal | None,
        authors: list,
        mesh: list,
        types: set,
        child_counts: dict,
        children: list,
        updates: tuple[dict[int, dict[str, object]], dict[int, dict[str, object]]],
    ) -> bool:
        """Bring ``study`` up to the record without erasing what the record lacks.

        Curated children the study lacks are appended to ``children``, and the new
        column values of the study and its appraisal go into ``updates`` (by primary
        key), for batched writes by the caller."""
        study_updates, appraisal_updates = updates
        data = self._study_values(record)
        mesh_names = data["mesh_names"]
        changes: dict[str, object] = {}
        for name in UPDATABLE_FIELDS:
            new = data[name]
            if new in (None, "", [], False) and name != "is_retracted":
                continue  # a sparser source never erases what a richer one gave
            if name == "is_retracted" and not new:
                continue
            if name in ("pmid", "doi", "pmcid") and getattr(study, name):
                continue  # identifiers are matched on, never rewritten
            if getattr(study, name) != new:
                changes[name] = new
        if "title" in changes:
            changes["title_key"] = self._d(record).title_key
        # Identifiers newly learnt must not belong to another study.
        for name in ("pmid", "doi", "pmcid"):
            if name in changes and Study.objects.filter(**{name: changes[name]}).exists():
                self.report.add(
                    "warning",
                    record.location,
                    f"{name} {changes[name]} belongs to another study; not copied",
                )
                del changes[name]

        relations_changed = False
        new_authors = self._authorship_rows(study.id, record)
        old_authors = [
            (sid, aid, pos, ln, fn, ini, cn, orc, values.json_text(aff))
            for sid, aid, pos, ln, fn, ini, cn, orc, aff in authors
        ]
        if new_authors and new_authors != old_authors:
            Authorship.objects.filter(study_id=study.id).delete()
            insert_rows(Authorship, AUTHORSHIP_FIELDS, new_authors)
            relations_changed = True
        new_mesh = self._mesh_rows(study.id, record)
        # Compared with sorted keys: PostgreSQL's jsonb gives objects back in its own key
        # order, and every update then rewrote every study's headings.
        old_mesh = sorted((d, major, _sorted_json(q)) for d, major, q, _ in mesh)
        if (
            new_mesh
            and sorted((d, major, _sorted_json(orjson.loads(q))) for _, d, major, q in new_mesh)
            != old_mesh
        ):
            StudyMeshHeading.objects.filter(study_id=study.id).delete()
            insert_rows(
                StudyMeshHeading, ("study", "descriptor", "is_major", "qualifiers"), new_mesh
            )
            relations_changed = True
        else:
            mesh_names = [name for *_, name in mesh]
        new_types = {pid for _, pid in self._pubtype_rows(study.id, record)}
        if new_types and new_types != types:
            study.publication_types.set(new_types)
            relations_changed = True

        curated_changed = self._merge_appraisal(study, record, appraisal, appraisal_updates)
        missing = {
            "limitations": not child_counts.get(("limitations", study.id)),
            "gaps": not child_counts.get(("gaps", study.id)),
            "effects": not child_counts.get(("effects", study.id)),
        }
        if (
            (missing["limitations"] and record.limitations)
            or (missing["gaps"] and record.research_gaps)
            or (missing["effects"] and record.effect_sizes)
        ):
            curated_changed = True
        children.append((study.id, record, missing))

        changed = bool(changes) or relations_changed or curated_changed
        update = {"import_fingerprint": self._d(record).fingerprint}
        if changed:
            merged_title = changes.get("title", study.title)
            merged_abstract = changes.get("abstract", study.abstract)
            merged_keywords = changes.get("keywords", study.keywords)
            update.update(changes)
            if "abstract" in changes:
                update["abstract_digest"] = abstract_digest(merged_abstract)
            update.update(
                search_document=values.search_document(
                    merged_title, merged_abstract, merged_keywords, mesh_names
                ),
                imported_from=self.source_name,
                imported_at=self.now,
                import_run=self.run,
                updated_at=self.now,
            )
        study_updates.setdefault(study.pk, {}).update(update)
        return changed

    def _merge_appraisal(
        self,
        study: Study,
        record: StudyRecord,
        appraisal: Appraisal | None,
        appraisal_updates: dict[int, dict[str, object]],
    ) -> bool:
        """Fill appraisal fields nobody has curated yet; curated ones are never touched.

        New values go into ``appraisal_updates``; the caller writes them in batches."""
        incoming = record.appraisal
        if incoming is None:
            return False
        data = _reported_kwargs(incoming)
        if appraisal is None:
            appraisal = Appraisal.objects.create(study=study, **data)
            if incoming.concepts:
                appraisal.concepts.add(*self._concept_ids(incoming))
            return True
        changes: dict[str, object] = {}
        if not appraisal.design and data["design"]:
            changes["design"] = data["design"]
        for name in REPORTED_FIELDS:
            state_name = f"{name}_state"
            if (
                getattr(appraisal, state_name) == ReportingState.NOT_CURATED
                and data[state_name] != ReportingState.NOT_CURATED
            ):
                changes[state_name] = data[state_name]
                changes[name] = data[name]
        for name in ("main_result", "practice_relevance", "risk_of_bias", "certainty", "notes"):
            if not getattr(appraisal, name) and data[name]:
                changes[name] = data[name]
        if "risk_of_bias" in changes:
            changes["risk_of_bias_tool"] = data["risk_of_bias_tool"]
        if changes:
            appraisal_updates.setdefault(appraisal.pk, {}).update(changes, updated_at=self.now)
        concepts_added = False
        if incoming.concepts and not appraisal.concepts.all():
            appraisal.concepts.add(*self._concept_ids(incoming))
            concepts_added = True
        return bool(changes) or concepts_added

    # ------------------------------------------------------------------ citation graph

    def _link_graph(self, items: list[tuple[StudyRecord, int]]) -> Iterator[None]:
        """Give each study its graph node, resolve its references and citing works.

        In three steps, run by advancing the generator: reading (the nodes the batch's
        identifiers name; each study's own node), then resolving every reference and
        citing entry in Python alone, so that it can run while the connection is busy
        loading the batch's new studies, then writing nodes and edges, which may
        reference those studies.
        """
        if not items:
            return
        index = _WorkIndex()
        pmids, dois, pmcids = set(), set(), set()
        for record, _ in items:
            # The study and every work it lists (StudyRecord and WorkRecord share the
            # identifier attributes).
            for work in (record, *record.references, *record.cited_by):
                if work.pmid:
                    pmids.add(int(work.pmid))
                if work.doi:
                    dois.add(work.doi)
                if work.pmcid:
                    pmcids.add(work.pmcid)
        study_ids = [study_id for _, study_id in items]
        columns = ("id", "pmid", "doi", "pmcid", "study")
        for field_name, wanted in (
            ("pmid", sorted(pmids)),
            ("doi", sorted(dois)),
            ("pmcid", sorted(pmcids)),
            ("study", study_ids),
        ):
            for row in select_in(Work, field_name, wanted, columns):
                index.add(*row)
        preexisting = set(index.info)
        by_study = {info["study_id"]: wid for wid, info in index.info.items() if info["study_id"]}

        new_works: list[list] = []  # rows without id yet
        link_updates: dict[int, dict] = {}
        # Nodes a study claims: described by the study from now on (see below).
        descriptions: dict[int, list] = {}

        def new_work(
            work: WorkRecord | None,
            record: StudyRecord | None,
            study_id: int | None,
            pmid: int | None,
            doi: str | None,
            pmcid: str | None,
        ) -> int:
            row = self._work_row(work, record, study_id, pmid, doi, pmcid)
            new_works.append(row)
            temp_id = -len(new_works)  # real ids are allocated once the count is known
            index.add(temp_id, pmid, doi, pmcid, study_id)
            return temp_id

        own: dict[int, int] = {}
        for record, study_id in items:
            pmid, doi, pmcid = _pmid(record.pmid), record.doi or None, record.pmcid or None
            candidates = [
                w
                for w in ([by_study.get(study_id), *index.find(pmid, doi, pmcid)])
                if w is not None
            ]
            candidates = list(dict.fromkeys(candidates))
            usable = [w for w in candidates if index.info[w]["study_id"] in (None, study_id)]
            if len(usable) < len(candidates):
                self.report.add(
                    "warning",
                    record.location,
                    "an identifier of this study is another study's in the "
                    "citation graph; linked by the others only",
                )
            if not usable:
                if not (record.references or record.cited_by or pmid or doi or pmcid):
                    continue  # a study outside the graph needs no node
                own[study_id] = new_work(None, record, study_id, pmid, doi, pmcid)
                continue
            primary = next(
                (w for w in usable if index.info[w]["study_id"] == study_id),
                min(w for w in usable if w > 0) if any(w > 0 for w in usable) else usable[0],
            )
            for other in usable:
                if other != primary and other > 0 and primary > 0:
                    self._merge_works(primary, other, index)
            info = index.info[primary]
            if primary > 0:
                update = link_updates.setdefault(primary, {})
                if info["study_id"] != study_id:
                    update["study_id"] = study_id
                    # A node first made from someone's reference list now describes
                    # the study itself, as a node made in the study's own batch does:
                    # what the graph holds must not depend on how a file was batched.
                    # The reference as printed stays on its edge (Citation.raw_text).
                    descriptions[primary] = self._work_row(
                        None, record, study_id, pmid, doi, pmcid
                    )[_DESCRIPTION]
                for name, value in (("pmid", pmid), ("doi", doi), ("pmcid", pmcid)):
                    if (
                        value
                        and not info[name]
                        and self._identifier_free(index, name, value, primary)
                    ):
                        update[name] = value
                        info[name] = value
                info["study_id"] = study_id
            own[study_id] = primary

        existing_raw = self._existing_unidentified(
            sorted({node for node in own.values() if node in preexisting})
        )
        yield  # reads done: what follows, up to the next step, makes no query

        edges: dict[tuple[int, int], tuple[int | None, str]] = {}
        for record, study_id in items:
            node = own.get(study_id)
            if node is None:
                continue
            for position, work in enumerate(record.references, 1):
                if (
                    not (work.pmid or work.doi or work.pmcid)
                    and (node, work.raw_text) in existing_raw
                ):
                    continue  # re-listed reference without identifiers: already an edge
                cited = self._resolve_work(work, index, new_work)
                if cited != node:
                    edges.setdefault((node, cited), (position, work.raw_text))
            for work in record.cited_by:
                citing = self._resolve_work(work, index, new_work)
                if citing != node:
                    edges.setdefault((citing, node), (None, work.raw_text))

        yield  # resolved: the writes follow

        # Allocate real ids for the new nodes and rewrite the temporary ones.
        real = allocate_ids(Work, len(new_works))
        remap = {-(i + 1): real_id for i, real_id in enumerate(real)}
        for row, real_id in zip(new_works, real, strict=True):
            row[0] = real_id
        insert_rows(Work, WORK_FIELDS, new_works)
        update_rows(
            Work,
            ("study", "pmid", "doi", "pmcid"),
            [
                (
                    update.get("study_id", index.info[work_id]["study_id"]),
                    index.info[work_id]["pmid"],
                    index.info[work_id]["doi"],
                    index.info[work_id]["pmcid"],
                    work_id,
                )
                for work_id, update in link_updates.items()
                if update
            ],
        )

        update_rows(
            Work,
            WORK_FIELDS[_DESCRIPTION],
            [(*description, work_id) for work_id, description in descriptions.items()],
        )

        # Edges between two nodes that existed before may exist already.
        # Edge -> position of the edges that exist already (both ends pre-existing).
        existing: dict[tuple[int, int], int | None] = {}
        citing_old = sorted({c for (c, d) in edges if c > 0 and d > 0 and c in preexisting})
        for citing, cited, position in select_in(
            Citation, "citing", citing_old, ("citing", "cited", "position")
        ):
            existing[(citing, cited)] = position
        rows = []
        numbered = []
        for (citing, cited), (position, raw) in edges.items():
            pair = (remap.get(citing, citing), remap.get(cited, cited))
            if pair[0] == pair[1]:
                continue
            if pair in existing:
                # An edge first learnt from a cited-by list has no position; the citing
                # study's own reference list, read later, numbers it.
                if existing[pair] is None and position is not None:
                    numbered.append((position, raw, pair[0], pair[1]))
                    existing[pair] = position
                continue
            existing[pair] = position
            rows.append((pair[0], pair[1], position, raw))
        if numbered:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE evidence_citation SET position = %s, raw_text = %s "
                    "WHERE citing_id = %s AND cited_id = %s",
                    numbered,
                )
        insert_rows(Citation, ("citing", "cited", "position", "raw_text"), rows)

    def _existing_unidentified(self, citing: list[int]) -> set[tuple[int, str]]:
        """(citing, raw text) of edges to identifier-less works that already exist, so a
        re-listed reference without PMID/DOI/PMCID does not become a second node.

        Two index lookups joined here rather than one SQL join: with the table growing
        inside the import's transaction the planner's estimates lag, and it chose hash
        joins over whole tables.
        """
        edges = select_in(Citation, "citing", citing, ("citing", "cited", "raw_text"))
        if not edges:
            return set()
        unidentified = {
            work_id
            for work_id, pmid, doi, pmcid in select_in(
                Work, "id", sorted({cited for _, cited, _ in edges}), ("id", "pmid", "doi", "pmcid")
            )
            if not (pmid or doi or pmcid)
        }
        return {(citing_id, raw) for citing_id, cited, raw in edges if cited in unidentified}

    @staticmethod
    def _identifier_free(index: _WorkIndex, name: str, value, work_id: int) -> bool:
        # The batch looked up every work holding any identifier of its studies, so a
        # work that holds ``value`` is in the index: no query needed.
        table = {"pmid": index.by_pmid, "doi": index.by_doi, "pmcid": index.by_pmcid}[name]
        owner = table.get(value)
        return owner is None or owner == work_id

    def _resolve_work(self, work: WorkRecord, index: _WorkIndex, new_work) -> int:
        # Called for every reference of a batch (~30 a record): the first node holding
        # one of its identifiers, looked up in the order find() uses, without a list.
        pmid, doi, pmcid = int(work.pmid) if work.pmid else None, work.doi, work.pmcid
        found = (
            (pmid and index.by_pmid.get(pmid))
            or (doi and index.by_doi.get(doi))
            or (pmcid and index.by_pmcid.get(pmcid))
        )
        if found:
            return found
        return new_work(work, None, None, pmid, doi or None, pmcid or None)

    def _work_row(
        self,
        work: WorkRecord | None,
        record: StudyRecord | None,
        study_id: int | None,
        pmid: int | None,
        doi: str | None,
        pmcid: str | None,
    ) -> list:
        if record is not None:
            authors = ", ".join(
                a.collective_name or f"{a.last_name} {a.initials}".strip() for a in record.authors
            )
            journal = (
                record.journal.iso_abbreviation or record.journal.title if record.journal else ""
            )
            return [
                0,
                pmid,
                doi,
                pmcid,
                record.title,
                authors,
                journal[:500],
                self._year(record.pub_date.year),
                record.volume[:64],
                record.issue[:64],
                record.pages[:64],
                "",
                study_id,
            ]
        return [
            0,
            pmid,
            doi,
            pmcid,
            work.title,
            work.authors,
            work.journal[:500],
            self._year(work.year),
            work.volume[:64],
            work.issue[:64],
            work.pages[:64],
            work.raw_text,
            study_id,
        ]

    @staticmethod
    def _year(year: int | None) -> int | None:
        return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None

    def _merge_works(self, primary: int, duplicate: int, index: _WorkIndex) -> None:
        """Two nodes turned out to be one work: keep ``primary``, move every edge."""
        for side, other in (("citing", "cited"), ("cited", "citing")):
            taken = set(Citation.objects.filter(**{side: primary}).values_list(other, flat=True))
            moving = Citation.objects.filter(**{side: duplicate})
            moving.filter(**{f"{other}__in": taken | {primary}}).delete()
            moving.update(**{side: primary})
        info = index.info[duplicate]
        Work.objects.filter(pk=duplicate).delete()
        index.forget(duplicate)
        keep = index.info[primary]
        fill = {
            name: info[name] for name in ("pmid", "doi", "pmcid") if info[name] and not keep[name]
        }
        if fill:
            Work.objects.filter(pk=primary).update(**fill)
            keep.update(fill)
            index.add(primary, keep["pmid"], keep["doi"], keep["pmcid"], keep["study_id"])


def _sorted_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _db_row(fields: list, row: tuple) -> tuple:
    """Column values as ``update_rows`` sends them: PostgreSQL gets them as JSON (lists
    for jsonb, ISO dates and times), SQLite as its driver takes them (JSON text...)."""
    *values_, pk = (value.pk if isinstance(value, Model) else value for value in row)
    if connection.vendor != "postgresql":
        values_ = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values_, strict=True)
        ]
    return (*values_, pk)
