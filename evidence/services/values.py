"""Pure conversions from parsed records to column values, and record validation."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import orjson

from evidence.identifiers import (
    InvalidIdentifier,
    abstract_digest,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    normalize_title,
)
from evidence.importers.records import (
    AuthorRecord,
    ReportingState,
    SourceLocation,
    StudyRecord,
)
from evidence.models.appraisal import REPORTED_FIELDS
from evidence.models.bibliographic import GRANT_KEYS, MAX_YEAR, MIN_YEAR, Author, Journal
from evidence.models.choices import (
    Certainty,
    ConceptKind,
    EffectMeasure,
    LimitationCategory,
    RaisedBy,
    ResearchGapCategory,
    ReviewStatus,
    RiskOfBias,
    RiskOfBiasTool,
    StudyDesign,
)
from evidence.models.choices import ReportingState as ReportingStateChoices

# PubMed's RefTypes saying that the study itself was retracted (RetractionOf, by
# contrast, is what the retraction notice says of the study it retracts).
RETRACTION_RELATIONS = frozenset({"RetractionIn", "RetractedandRepublishedIn"})
RETRACTED_TYPE = "Retracted Publication"

# Column widths of the models, checked before writing so a long value is reported with
# its record and field instead of failing the whole batch in the database.
STUDY_LIMITS = {"volume": 64, "issue": 64, "pages": 64, "language": 16}
WORK_LIMITS = {"journal": 500, "volume": 64, "issue": 64, "pages": 64}
# The largest value of a PositiveIntegerField on PostgreSQL (a 4-byte integer). SQLite
# would store more, but a file that imports on one database must import on the other.
MAX_COUNT = 2_147_483_647

_EMPTY_LOCATION = SourceLocation()


def fingerprint(record: StudyRecord) -> str:
    """Digest of everything a record says, except where it sat in its file.

    A record that came with the digest of its source bytes (PubMed XML) is known by
    that digest, so a later file can be compared with it before it is even read.
    """
    if record.source_digest:
        return record.source_digest
    location, warnings = record.location, record.warnings
    record.location, record.warnings = _EMPTY_LOCATION, []
    try:
        payload = orjson.dumps(record)
    finally:
        record.location, record.warnings = location, warnings
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def publication_date(record: StudyRecord) -> tuple[dt.date | None, str, int | None]:
    """(date, precision, year); a month or day that cannot exist is dropped with a warning."""
    parts = record.pub_date
    year = parts.year
    if year is None:
        return None, "", None
    if not MIN_YEAR <= year <= MAX_YEAR:
        record.warnings.append(f"publication year {year} is out of range; left empty")
        return None, "", None
    month, day = parts.month, parts.day
    if month is not None and not 1 <= month <= 12:
        record.warnings.append(f"publication month {month} is impossible; kept the year only")
        month = day = None
    if day is not None:
        try:
            return dt.date(year, month or 1, day), "day", year
        except ValueError:
            record.warnings.append(f"publication day {year}-{month}-{day} is impossible")
            day = None
    if month is not None:
        return dt.date(year, month, 1), "month", year
    return dt.date(year, 1, 1), "year", year


def fit(record: StudyRecord, value: str, limit: int, field: str) -> str:
    if len(value) <= limit:
        return value
    record.warnings.append(f"{field} longer than {limit} characters; truncated")
    return value[:limit]


def search_document(title: str, abstract: str, keywords: list[str], mesh: list[str]) -> str:
    return "\n".join(
        part for part in (title, abstract, " ; ".join(keywords), " ; ".join(mesh)) if part
    )


def is_retracted(record: StudyRecord) -> bool:
    return any(r.relation in RETRACTION_RELATIONS for r in record.related_articles) or any(
        t.name == RETRACTED_TYPE for t in record.publication_types
    )


def author_fields(author: AuthorRecord) -> dict[str, str]:
    last = author.last_name[:255]
    collective = author.collective_name[:500]
    if not last and not collective:
        # A lone fore name (some RIS exports) is all we have: keep it as the last name.
        last = author.fore_name[:255]
    initials = author.initials or "".join(p[:1] for p in author.fore_name.replace("-", " ").split())
    return {
        "last_name": last,
        "fore_name": author.fore_name[:255] if last != author.fore_name[:255] else "",
        "initials": initials[:32],
        "collective_name": collective,
        "orcid": author.orcid[:19],
    }


def has_content(record: StudyRecord) -> bool:
    return bool(record.pmid or record.doi or record.pmcid or record.title or record.abstract)


def _check_choice(errors: list[str], field: str, value: str, choices: type) -> None:
    if value and value not in choices.values:
        errors.append(f"{field}: {value!r} is not one of {', '.join(choices.values)}")


_NORMALISERS = (("pmid", normalize_pmid), ("doi", normalize_doi), ("pmcid", normalize_pmcid))


def normalize_identifiers(record: StudyRecord) -> list[str]:
    """Bring every identifier to its canonical form whatever the parser did.

    A bad identifier of the study itself is an error (matching depends on it); one of
    a cited or citing work is dropped with a warning, the entry is kept.
    """
    errors: list[str] = []
    for name, normalise in _NORMALISERS:
        try:
            setattr(record, name, normalise(getattr(record, name)))
        except InvalidIdentifier as exc:
            errors.append(f"{name}: {exc}")
    for list_name in ("references", "cited_by"):
        for index, work in enumerate(getattr(record, list_name)):
            for name, normalise in _NORMALISERS:
                try:
                    setattr(work, name, normalise(getattr(work, name)))
                except InvalidIdentifier as exc:
                    setattr(work, name, "")
                    record.warnings.append(f"{list_name}[{index}].{name}: {exc}; dropped")
    return errors


def validate(record: StudyRecord) -> list[str]:
    """Reasons the record cannot be stored; an empty list means it can.

    Normalises identifiers in place first.
    """
    errors: list[str] = normalize_identifiers(record)
    if not has_content(record):
        errors.append("record has no identifier, title or abstract")
    _check_count(errors, "citation_count", record.citation_count)
    if record.review_status:
        _check_choice(errors, "review_status", record.review_status, ReviewStatus)
    appraisal = record.appraisal
    if appraisal is not None:
        _check_choice(errors, "appraisal.design", appraisal.design, StudyDesign)
        _check_choice(errors, "appraisal.risk_of_bias", appraisal.risk_of_bias, RiskOfBias)
        _check_choice(
            errors, "appraisal.risk_of_bias_tool", appraisal.risk_of_bias_tool, RiskOfBiasTool
        )
        _check_choice(errors, "appraisal.certainty", appraisal.certainty, Certainty)
        for name in REPORTED_FIELDS:
            reported = getattr(appraisal, name)
            _check_choice(errors, f"appraisal.{name}.state", reported.state, ReportingStateChoices)
            if reported.state == ReportingState.REPORTED and not reported.value.strip():
                errors.append(f"appraisal.{name}: reported but no value given")
            if reported.state != ReportingState.REPORTED and reported.value.strip():
                errors.append(
                    f"appraisal.{name}: a value is given but the state is {reported.state}"
                )
        sample = appraisal.sample_size
        if sample.state == ReportingState.REPORTED:
            digits = sample.value.strip()
            if not (digits.isascii() and digits.isdigit()):
                errors.append(f"appraisal.sample_size: {sample.value!r} is not a whole number >= 0")
            else:
                _check_count(errors, "appraisal.sample_size", int(digits))
        for index, concept in enumerate(appraisal.concepts):
            _check_choice(errors, f"appraisal.concepts[{index}].kind", concept.kind, ConceptKind)
    for index, effect in enumerate(record.effect_sizes):
        where = f"effect_sizes[{index}]"
        _check_choice(errors, f"{where}.measure", effect.measure, EffectMeasure)
        _check_choice(errors, f"{where}.certainty", effect.certainty, Certainty)
        if not effect.outcome:
            errors.append(f"{where}.outcome: required")
        if not effect.measure:
            errors.append(f"{where}.measure: required")
        if (
            effect.ci_lower is not None
            and effect.ci_upper is not None
            and effect.ci_lower > effect.ci_upper
        ):
            errors.append(
                f"{where}: CI lower bound {effect.ci_lower} exceeds upper bound {effect.ci_upper}"
            )
        for name in ("value", "ci_lower", "ci_upper", "ci_level", "p_value"):
            number = getattr(effect, name)
            if number is not None and not math.isfinite(number):
                errors.append(f"{where}.{name}: {number} is not a finite number")
        if effect.p_value is not None and not 0 <= effect.p_value <= 1:
            errors.append(f"{where}.p_value: {effect.p_value} is not between 0 and 1")
        if effect.ci_level is not None and not 0 < effect.ci_level < 100:
            errors.append(f"{where}.ci_level: {effect.ci_level} is not a percentage")
        for name in ("n_intervention", "n_comparator"):
            _check_count(errors, f"{where}.{name}", getattr(effect, name))
    for index, limitation in enumerate(record.limitations):
        _check_choice(
            errors, f"limitations[{index}].category", limitation.category, LimitationCategory
        )
        _check_choice(errors, f"limitations[{index}].raised_by", limitation.raised_by, RaisedBy)
        if not limitation.description.strip():
            errors.append(f"limitations[{index}].description: required")
    for index, gap in enumerate(record.research_gaps):
        _check_choice(errors, f"research_gaps[{index}].category", gap.category, ResearchGapCategory)
        if not gap.description.strip():
            errors.append(f"research_gaps[{index}].description: required")
    return errors


def _check_count(errors: list[str], where: str, value: int | None) -> None:
    if value is None:
        return
    if value < 0:
        errors.append(f"{where}: {value} is negative")
    elif value > MAX_COUNT:
        errors.append(f"{where}: {value} is too large (at most {MAX_COUNT:,})")


def title_key(record: StudyRecord) -> str:
    return normalize_title(record.title)


@dataclass(slots=True)
class Derived:
    """What the writer needs of a record that depends on the record alone.

    Computed where parsing runs (``derive``), so that the writer, whose thread and
    database connection are the import's bottleneck, only matches, numbers and writes.
    """

    # What matching and the unchanged-record check need: always computed.
    fingerprint: str
    title_key: str
    journal_key: str | None
    # What writing a new or changed record needs: None until ``derive(full=True)``, so
    # that a re-import of unchanged records never pays for it.
    # Study columns that need no database: everything of ``STUDY_FIELDS`` but ids.
    study: dict[str, object] | None = None
    # (author fields, author key, affiliations as JSON text) of each listed author.
    authors: list[tuple[dict[str, str], str, str]] | None = None
    # Headings merged by descriptor: name -> [is major, qualifiers].
    mesh: dict[str, list] | None = None
    mesh_uis: dict[str, str] | None = None
    publication_types: dict[str, str] | None = None  # name -> MeSH UI, in order, once each

    @property
    def complete(self) -> bool:
        return self.study is not None


def derive(record: StudyRecord, *, full: bool = True, known: Derived | None = None) -> Derived:
    """Compute ``Derived`` for a validated record (no database access).

    ``full=False`` stops at what matching needs; ``known`` is such a partial result to
    complete without computing its part again.
    """
    if known is None:
        known = Derived(
            fingerprint=fingerprint(record),
            title_key=title_key(record),
            journal_key=journal_key(record),
        )
    if not full or known.complete:
        return known
    pub_date, precision, year = publication_date(record)
    keywords = list(dict.fromkeys(record.keywords))
    abstract_sections = [
        {"label": s.label, "category": s.category, "text": s.text} for s in record.abstract_sections
    ]
    related = [
        {"relation": r.relation, "ref_source": r.ref_source, "pmid": r.pmid}
        for r in record.related_articles
    ]
    # Each grant once, in the shape Study.clean holds curated ones to.
    grant_dicts = [
        dict(zip(GRANT_KEYS, parts, strict=True))
        for parts in dict.fromkeys(
            (g.agency, g.grant_id, g.acronym, g.country)
            for g in record.grants
            if g.agency or g.grant_id
        )
    ]
    mesh: dict[str, list] = {}
    mesh_uis: dict[str, str] = {}
    for heading in record.mesh_headings:
        name = heading.descriptor[:255]
        if not name:
            continue
        qualifiers = [
            {"name": q.name, "ui": q.ui, "is_major": q.is_major} for q in heading.qualifiers
        ]
        if name in mesh:  # the same descriptor twice: one heading
            mesh[name][0] |= heading.is_major
            mesh[name][1] += qualifiers
        else:
            mesh[name] = [heading.is_major, qualifiers]
            mesh_uis[name] = heading.ui[:16]
    authors = []
    for author in record.authors:
        fields = author_fields(author)
        if fields["last_name"] or fields["collective_name"]:
            authors.append((fields, Author.make_key(**fields), json_text(author.affiliations)))
    publication_types: dict[str, str] = {}
    for ptype in record.publication_types:
        if ptype.name:
            publication_types.setdefault(ptype.name[:255], ptype.ui[:16])
    mesh_names = [h.descriptor for h in record.mesh_headings]
    study = {
        "pmid": int(record.pmid) if record.pmid else None,
        "doi": record.doi or None,
        "pmcid": record.pmcid or None,
        "title": record.title,
        "abstract": record.abstract,
        "abstract_sections": abstract_sections,
        "abstract_sections_json": json_text(abstract_sections),
        "language": fit(record, record.language, 16, "language"),
        "volume": fit(record, record.volume, 64, "volume"),
        "issue": fit(record, record.issue, 64, "issue"),
        "pages": fit(record, record.pages, 64, "pages"),
        "pub_date": pub_date,
        "pub_date_precision": precision,
        "pub_date_text": fit(record, record.pub_date.text, 100, "publication date text"),
        "pub_year": year,
        "keywords": keywords,
        "keywords_json": json_text(keywords),
        "related_articles": related,
        "related_articles_json": json_text(related),
        "grants": grant_dicts,
        "grants_json": json_text(grant_dicts),
        "funding_statement": record.funding_statement,
        "conflict_of_interest": record.conflict_of_interest,
        "is_retracted": is_retracted(record),
        "citation_count": record.citation_count,
        "mesh_names": mesh_names,
        "search_document": search_document(record.title, record.abstract, keywords, mesh_names),
        "abstract_digest": abstract_digest(record.abstract),
    }
    known.study = study
    known.authors = authors
    known.mesh = mesh
    known.mesh_uis = mesh_uis
    known.publication_types = publication_types
    return known


def journal_key(record: StudyRecord) -> str | None:
    journal = record.journal
    if journal is None or not (journal.title or journal.iso_abbreviation):
        return None
    return Journal.make_key(
        title=journal.title or journal.iso_abbreviation,
        issn=journal.issn,
        eissn=journal.eissn,
        nlm_id=journal.nlm_id,
    )[:300]
