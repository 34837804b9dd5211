"""Typed records produced by the parsers and consumed by the import service.

Every parser in this package turns bytes into an iterator of these dataclasses and
never touches the ORM, so parsing is testable without a database and the one place
that writes imported data stays ``evidence.services``.

Conventions shared by every parser:
- Strings are stripped; a missing value is ``""`` (text) or ``None`` (numbers, dates).
- Identifiers are normalised with ``evidence.identifiers`` (PMID digits, DOI lower-case
  without resolver prefix, PMCID with ``PMC`` prefix); an unusable identifier becomes
  ``""`` and a warning is added to ``StudyRecord.warnings``.
- ``location`` says where the record starts in its file so error messages can name it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class DatePrecision(StrEnum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


class ReportingState(StrEnum):
    """Whether an appraisal field was curated, and what the study said about it."""

    NOT_CURATED = "not_curated"
    REPORTED = "reported"
    NOT_REPORTED = "not_reported"
    NOT_APPLICABLE = "not_applicable"


@dataclass(slots=True)
class SourceLocation:
    """Where a record starts: the file it came from, its 1-based ordinal and line."""

    source: str = ""
    record: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = [self.source or "<input>"]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)


@dataclass(slots=True)
class PublicationDate:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    # PubMed's free-text MedlineDate ("1998 Dec-1999 Jan") or any date string kept verbatim.
    text: str = ""

    @property
    def precision(self) -> DatePrecision | None:
        if self.year is None:
            return None
        if self.month is None:
            return DatePrecision.YEAR
        if self.day is None:
            return DatePrecision.MONTH
        return DatePrecision.DAY


@dataclass(slots=True)
class JournalRecord:
    title: str = ""
    iso_abbreviation: str = ""
    issn: str = ""  # print ISSN, "1234-567X"
    eissn: str = ""  # electronic ISSN
    nlm_id: str = ""
    publisher: str = ""


@dataclass(slots=True)
class AuthorRecord:
    last_name: str = ""
    fore_name: str = ""
    initials: str = ""
    # Group authors ("Canadian Respiratory Research Network") have only this.
    collective_name: str = ""
    orcid: str = ""  # bare "0000-0002-1825-0097", no URL
    affiliations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AbstractSectionRecord:
    label: str = ""  # as printed: "METHODS AND RESULTS"
    category: str = ""  # PubMed NlmCategory: BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS
    text: str = ""


@dataclass(slots=True)
class MeshQualifierRecord:
    name: str
    ui: str = ""
    is_major: bool = False


@dataclass(slots=True)
class MeshHeadingRecord:
    descriptor: str
    ui: str = ""
    is_major: bool = False
    qualifiers: list[MeshQualifierRecord] = field(default_factory=list)


@dataclass(slots=True)
class PublicationTypeRecord:
    name: str
    ui: str = ""


@dataclass(slots=True)
class WorkRecord:
    """A cited or citing work as the source describes it (may not be in the database)."""

    raw_text: str = ""
    authors: str = ""
    title: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    pmid: str = ""
    pmcid: str = ""
    doi: str = ""


@dataclass(slots=True)
class RelatedArticleRecord:
    """PubMed CommentsCorrections other than Cites: errata, retractions, comments."""

    relation: str  # PubMed RefType, e.g. "RetractionIn", "RetractionOf", "ErratumIn", "CommentOn"
    ref_source: str = ""
    pmid: str = ""


@dataclass(slots=True)
class GrantRecord:
    """One line of a study's funding: PubMed's Grant, MEDLINE's GR, a funder in BibTeX.

    Funding sources are what reviewers extract to judge sponsorship bias; the agency
    is the one part every source gives.
    """

    agency: str = ""  # "NCI NIH HHS", "Wellcome Trust"
    grant_id: str = ""  # "R01 CA123456", "MR/K006584/1"
    acronym: str = ""  # the agency's short code: PubMed's institute code "CA", Scopus's "NIH"
    country: str = ""


@dataclass(slots=True)
class ReportedValue:
    """One appraisal field: its reporting state and, when reported, its value."""

    state: ReportingState = ReportingState.NOT_CURATED
    value: str = ""


@dataclass(slots=True)
class EffectSizeRecord:
    outcome: str = ""
    measure: str = ""  # EffectMeasure value: "OR", "RR", "HR", "MD", "SMD", "RD", "other"
    value: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_level: float | None = None
    p_value: float | None = None
    n_intervention: int | None = None
    n_comparator: int | None = None
    timepoint: str = ""
    certainty: str = ""
    note: str = ""


@dataclass(slots=True)
class LimitationRecord:
    description: str
    category: str = "other"
    raised_by: str = "authors"  # "authors" or "reviewer"


@dataclass(slots=True)
class ResearchGapRecord:
    description: str
    category: str = "other"
    future_direction: str = ""


@dataclass(slots=True)
class ConceptRecord:
    name: str
    kind: str = "topic"  # "topic", "condition", "mechanism"


@dataclass(slots=True)
class AppraisalRecord:
    design: str = ""  # StudyDesign value, "" when not curated
    population: ReportedValue = field(default_factory=ReportedValue)
    sample_size: ReportedValue = field(default_factory=ReportedValue)  # value: digits
    intervention: ReportedValue = field(default_factory=ReportedValue)
    comparator: ReportedValue = field(default_factory=ReportedValue)
    outcomes: ReportedValue = field(default_factory=ReportedValue)
    safety: ReportedValue = field(default_factory=ReportedValue)
    effect_measures: ReportedValue = field(default_factory=ReportedValue)
    main_result: str = ""
    practice_relevance: str = ""
    risk_of_bias: str = ""
    risk_of_bias_tool: str = ""
    certainty: str = ""
    notes: str = ""
    concepts: list[ConceptRecord] = field(default_factory=list)


@dataclass(slots=True)
class StudyRecord:
    location: SourceLocation = field(default_factory=SourceLocation)
    pmid: str = ""
    doi: str = ""
    pmcid: str = ""
    title: str = ""
    abstract: str = ""  # plain text; for structured abstracts the sections joined
    abstract_sections: list[AbstractSectionRecord] = field(default_factory=list)
    language: str = ""  # as given by the source, e.g. "eng"
    journal: JournalRecord | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    pub_date: PublicationDate = field(default_factory=PublicationDate)
    authors: list[AuthorRecord] = field(default_factory=list)
    publication_types: list[PublicationTypeRecord] = field(default_factory=list)
    mesh_headings: list[MeshHeadingRecord] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    citation_count: int | None = None
    references: list[WorkRecord] = field(default_factory=list)  # works this study cites
    cited_by: list[WorkRecord] = field(default_factory=list)  # works citing this study
    related_articles: list[RelatedArticleRecord] = field(default_factory=list)
    grants: list[GrantRecord] = field(default_factory=list)
    # Free-text funding acknowledgement (Web of Science's and Scopus's funding text).
    funding_statement: str = ""
    # The authors' declaration of competing interests (PubMed's CoiStatement, COIS).
    conflict_of_interest: str = ""
    # Curated content: only the evidence summary and EviDB JSON carry these.
    appraisal: AppraisalRecord | None = None
    effect_sizes: list[EffectSizeRecord] = field(default_factory=list)
    limitations: list[LimitationRecord] = field(default_factory=list)
    research_gaps: list[ResearchGapRecord] = field(default_factory=list)
    review_status: str = ""  # only EviDB JSON carries it
    # Non-fatal observations for the import report ("no identifier: needs curation").
    warnings: list[str] = field(default_factory=list)
    # Digest of the record's own bytes in its source, when the parser can take them
    # (PubMed XML): the import's fingerprint of it, so an unchanged record of a later
    # file is recognised before it is read (KnownRecord). Not part of the record's value.
    source_digest: str = field(default="", compare=False)


@dataclass(slots=True)
class KnownQuery:
    """The parser asks which of these records the database holds already, byte for byte.

    ``pairs`` are (PMID, source digest). The consumer answers, when it reaches the
    query, with the digests it holds for those PMIDs, leaving out any study that the
    records before the query could still change; the parser then yields a
    ``KnownRecord`` for each of them instead of reading it. Only a parser running
    beside the writer asks, and it waits for the answer, unless the query is a
    ``probe``: then it has read the records already, and the answer only tells it
    whether asking is worth waiting for again.
    """

    pairs: list[tuple[int, str]]
    probe: bool = False
    _answer: set[str] = field(default_factory=set)
    _answered: threading.Event = field(default_factory=threading.Event)
    # Across processes (the parser in a child): the parent's copy relays the answer
    # through a pipe, from which the child's copy fetches it.
    _relay: Callable[[set[str]], None] | None = None
    _fetch: Callable[[], set[str]] | None = None
    _arrived: Callable[[float], bool] | None = None

    def answer(self, digests: set[str]) -> None:
        if self._relay is not None:
            self._relay(digests)
            return
        self._answer = digests
        self._answered.set()

    def wait(self) -> set[str]:
        if self._fetch is not None:
            return self._fetch()
        self._answered.wait()
        return self._answer

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether ``wait`` would return at once, after waiting up to ``timeout`` s."""
        if self._arrived is not None:
            return self._arrived(timeout)
        return self._answered.wait(timeout)

    def relay_to(self, send: Callable[[set[str]], None]) -> None:
        self._relay = send

    def fetch_from(self, receive: Callable[[], set[str]], arrived: Callable[[float], bool]) -> None:
        self._fetch = receive
        self._arrived = arrived

    def __reduce__(self):
        return (KnownQuery, (self.pairs, self.probe))


@dataclass(slots=True)
class KnownRecord:
    """A record whose source bytes are those the database last imported for its PMID:
    unchanged, so it was not read."""

    location: SourceLocation
    pmid: int
    digest: str


@dataclass(slots=True)
class DeletedCitations:
    """PubMed update files' <DeleteCitation>: these PMIDs were withdrawn from PubMed."""

    location: SourceLocation
    pmids: list[str]


@dataclass(slots=True)
class InvalidRecord:
    """A record the parser could not use; the file may still have good ones after it."""

    location: SourceLocation
    reason: str


ParsedItem = StudyRecord | DeletedCitations | InvalidRecord | KnownQuery | KnownRecord


# The warning of a record with only an abstract to go by (an evidence summary, or such a
# study exported by EviDB): the writer attaches it to the study with that abstract.
NEEDS_CURATION_WARNING = (
    "no title or identifier: needs curation; will attach to an existing study whose "
    "abstract matches"
)


class ParseError(Exception):
    """The file as a whole cannot be read further (not XML, hostile XML, truncated...)."""

    def __init__(self, reason: str, location: SourceLocation | None = None) -> None:
        self.reason = reason
        self.location = location or SourceLocation()
        super().__init__(f"{self.location}: {reason}")
