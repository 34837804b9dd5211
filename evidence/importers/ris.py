"""RIS (Zotero, EndNote, Embase, Ovid, Scopus, Web of Science, Rayyan exports) to StudyRecords.

Lines are ``TY  - JOUR``: a two-character tag, two spaces, a hyphen, a space and the value;
``TY`` opens a record and ``ER`` closes it. Lines without a tag continue the previous
tag's value (wrapped titles, EndNote's one-keyword-per-line ``KW``).

Why not ``rispy.loads``: rispy 0.10 returns no line numbers (we must name the line of a
bad record), silently drops a last record that lacks ``ER``, and does not recognise tags
written with one space (``TY - JOUR``) as some exporters do. The reader below is a few
lines of tolerant tokenising; the meaning of each tag still comes from rispy's
``TAG_KEY_MAPPING``, so field names here match what rispy users expect.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import rispy

from evidence.identifiers import (
    InvalidIdentifier,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.medline import (
    add_identifier,
    author_from_name,
    issns_in,
    parse_date,
    split_abstract_sections,
    unique,
)
from evidence.importers.records import (
    InvalidRecord,
    JournalRecord,
    ParsedItem,
    ParseError,
    PublicationDate,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import clean, read_text

__all__ = ["parse"]

# Standard tags keep rispy's names ("T1" -> "primary_title"); others keep their tag.
_FIELD_NAMES: dict[str, str] = dict(rispy.TAG_KEY_MAPPING)

# "TY  - JOUR", "TY - JOUR" (one space), "ER  -" (no trailing space on an empty tag).
_TAG_LINE_RE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?:[ \t]+(.*)|[ \t]*)$")
_TY_EXAMPLE = "no RIS records found (expected lines like 'TY  - JOUR')"

# Reference types whose T2 is the journal (for books and chapters it is the book or series).
_JOURNAL_TYPES = frozenset({"JOUR", "JFULL", "EJOUR", "MGZN", "NEWS", "ABST", "INPR", "SER"})
_BOOK_TYPES = frozenset({"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"})
_DOI_LIKE_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.\d{4,9}/", re.I)
_DOI_URL_RE = re.compile(r"https?://(?:dx\.)?doi\.org/\S+", re.I)
_PMID_IN_NOTE_RE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.I)
_PMCID_RE = re.compile(r"^PMC\d{1,9}$", re.I)
# Accession numbers are PMIDs only in PubMed/MEDLINE exports: CINAHL and Ovid Embase
# accession numbers are also 8-9 digits.
_PUBMED_DATABASES = ("pubmed", "medline", "nlm")


@dataclass(slots=True)
class _RawRecord:
    line: int
    fields: list[tuple[str, list[str], int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _split_records(text: str) -> tuple[list[_RawRecord], list[int]]:
    """Records with their tag lines, and the lines of text found outside any record."""
    records: list[_RawRecord] = []
    outside: list[int] = []
    current: _RawRecord | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        tag_line = _TAG_LINE_RE.match(line)
        tag = tag_line.group(1) if tag_line else ""
        value = (tag_line.group(2) or "").strip() if tag_line else ""
        if tag == "TY":
            if current is not None:
                current.warnings.append(
                    f"record not closed by 'ER  -' before the next 'TY' (line {number})"
                )
                records.append(current)
            current = _RawRecord(line=number, fields=[("TY", [value], number)])
            if outside:
                current.warnings.append(_outside_warning(outside))
                outside = []
            continue
        if current is None:
            if line.strip():
                outside.append(number)
            continue
        if tag == "ER":
            records.append(current)
            current = None
        elif tag_line is not None:
            current.fields.append((tag, [value], number))
        elif line.strip():
            current.fields[-1][1].append(line.strip())
    if current is not None:
        current.warnings.append("record not closed by 'ER  -' at the end of the file")
        records.append(current)
    return records, outside


def _outside_warning(lines: list[int]) -> str:
    span = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
    return f"{span}: text outside any record (before 'TY  -' or after 'ER  -') ignored"


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    """Yield one StudyRecord (or InvalidRecord) per RIS record in ``stream``."""
    text, decode_warnings = read_text(stream, source_name=source_name)
    if not text.strip():
        raise ParseError(f"empty file: {_TY_EXAMPLE}", SourceLocation(source_name))
    raw_records, trailing = _split_records(text)
    if not raw_records:
        raise ParseError(_TY_EXAMPLE, SourceLocation(source_name, line=trailing[0]))
    if trailing:
        raw_records[-1].warnings.append(_outside_warning(trailing))
    for number, raw in enumerate(raw_records, start=1):
        location = SourceLocation(source_name, record=number, line=raw.line)
        try:
            item = _build_record(raw, location)
        except Exception as exc:  # one odd record must not stop the file
            item = InvalidRecord(location, f"could not read record: {exc!r}")
        if isinstance(item, StudyRecord):
            item.warnings[:0] = decode_warnings
        yield item


class _Fields:
    """A record's values by rispy field name, in file order, with the tag they came from."""

    def __init__(self, raw: _RawRecord) -> None:
        self._values: dict[str, list[tuple[str, list[str]]]] = {}
        for tag, lines, _ in raw.fields:
            self._values.setdefault(_FIELD_NAMES.get(tag, tag), []).append((tag, lines))

    def all(self, *names: str) -> list[tuple[str, str]]:
        """(tag, value) pairs for these fields; wrapped lines joined with spaces."""
        return [
            (tag, value)
            for name in names
            for tag, lines in self._values.get(name, ())
            if (value := clean(" ".join(lines)))
        ]

    def lines(self, *names: str) -> list[str]:
        """Every physical line of these fields (EndNote writes one keyword per line)."""
        return [
            value
            for name in names
            for _, lines in self._values.get(name, ())
            for line in lines
            if (value := clean(line))
        ]

    def first(self, *names: str) -> str:
        found = self.all(*names)
        return found[0][1] if found else ""

    def first_with_tag(self, *names: str) -> tuple[str, str]:
        found = self.all(*names)
        return found[0] if found else ("", "")


def _build_record(raw: _RawRecord, location: SourceLocation) -> ParsedItem:
    fields = _Fields(raw)
    record = StudyRecord(location=location, warnings=list(raw.warnings))
    reference_type = fields.first("type_of_reference").upper()

    record.title = fields.first("title", "primary_title", "CT")
    if not record.title:
        # Better a short or translated title than a record nobody can recognise.
        fallbacks = ["short_title", "translated_title"]
        if reference_type in _BOOK_TYPES:
            fallbacks.append("BT")
        tag, record.title = fields.first_with_tag(*fallbacks)
        if record.title:
            record.warnings.append(f"no TI/T1 title: title taken from {tag}")
    _read_identifiers(record, fields)
    if not record.title and not (record.pmid or record.doi or record.pmcid):
        # Scopus exports cited reports and web pages with the name only in T2. Dropping
        # the record would fail the whole file by default; keep it, flagged for curation.
        record.title = fields.first("secondary_title", "BT")
        if record.title:
            record.warnings.append(
                "no TI/T1 title and no identifier: T2 taken as the title; check this record"
            )
    if not record.title and not (record.pmid or record.doi or record.pmcid):
        return InvalidRecord(
            location, "record has neither a title (TI/T1) nor an identifier (DO/AN)"
        )

    record.abstract = fields.first("abstract", "notes_abstract")
    record.abstract_sections = split_abstract_sections(record.abstract)
    record.language = fields.first("language")
    record.volume = fields.first("volume", "VO")
    record.issue = fields.first("number", "CP")
    record.pages = _pages(fields.first("start_page"), fields.first("end_page"))
    record.pub_date = _publication_date(record, fields)
    record.journal = _journal(fields, reference_type)
    record.keywords = unique(
        [kw.strip() for line in fields.lines("keywords") for kw in line.split(";")]
    )
    for _, name in fields.all("authors", "first_authors"):
        author = author_from_name(name)
        if author is not None:
            record.authors.append(author)
    return record


def _read_identifiers(record: StudyRecord, fields: _Fields) -> None:
    for tag, value in fields.all("doi"):
        add_identifier(record, "doi", normalize_doi, value, field=tag)
    # Some exporters put the DOI in M3 (a "type of work" slot elsewhere): only if DOI-shaped.
    for tag, value in fields.all("type_of_work"):
        if _DOI_LIKE_RE.match(value):
            add_identifier(record, "doi", normalize_doi, value, field=tag)
    if not record.doi:
        for tag, value in fields.all("urls", "file_attachments1", "file_attachments2", "L3"):
            for url in _DOI_URL_RE.findall(value):
                add_identifier(record, "doi", normalize_doi, url.rstrip(";"), field=tag)

    database = " ".join(v for _, v in fields.all("name_of_database", "database_provider"))
    database = database.lower()
    if "embase" in database:
        # Embase writes the MEDLINE PMID of a record in C5 (and its own ID in AN/U2).
        _pmid_from_digits(record, fields.all("custom5"), min_digits=1)
    elif not database or any(name in database for name in _PUBMED_DATABASES):
        _pmid_from_digits(record, fields.all("accession_number"), min_digits=1)
        # M1/C1 also hold issue numbers in EndNote: short numbers are not PMIDs.
        _pmid_from_digits(record, fields.all("note", "custom1"), min_digits=6)
    for tag, value in fields.all("notes", "note", "research_notes"):
        if not record.pmid and (found := _PMID_IN_NOTE_RE.search(value)):
            add_identifier(record, "pmid", normalize_pmid, found.group(1), field=tag)

    for tag, value in fields.all("PMC", "accession_number", *(f"custom{n}" for n in range(1, 9))):
        if _PMCID_RE.match(value):
            add_identifier(record, "pmcid", normalize_pmcid, value, field=tag)


def _pmid_from_digits(
    record: StudyRecord, values: list[tuple[str, str]], *, min_digits: int
) -> None:
    """Fields that hold a PMID in some dialects and other things elsewhere: digits only."""
    for _, value in values:
        if record.pmid:
            return
        if value.isdigit() and len(value.lstrip("0")) >= min_digits:
            try:
                record.pmid = normalize_pmid(value)
            except InvalidIdentifier:
                continue  # a longer accession number, not a PMID


def _pages(start: str, end: str) -> str:
    """'SP - 606' + 'EP - 608' -> '606-608'; SP may already hold a range."""
    start = re.sub(r"\s*(?:--?|\u2013|\u2014)\s*", "-", start)
    if start and end and "-" not in start and end != start:
        return f"{start}-{end}"
    return start


def _publication_date(record: StudyRecord, fields: _Fields) -> PublicationDate:
    """PY/Y1 give the year; DA ('2019/10//undefined') may add month and day."""
    year_tag, year_text = fields.first_with_tag("year", "publication_year")
    date_tag, date_text = fields.first_with_tag("date")
    by_year = parse_date(year_text, field=year_tag, warnings=record.warnings)
    if not date_text:
        return by_year
    by_date = parse_date(date_text, field=date_tag, warnings=record.warnings)
    if by_year.year is None:
        return by_date if by_date.year is not None else by_year
    if by_date.year == by_year.year and by_date.month is not None and by_year.month is None:
        return by_date
    return by_year


def _journal(fields: _Fields, reference_type: str) -> JournalRecord | None:
    # Non-standard types ("Journal Article") are treated as journal articles.
    journal_like = reference_type in _JOURNAL_TYPES or not rispy.TYPE_OF_REFERENCE_MAPPING.get(
        reference_type
    )
    full_title_fields = ["alternate_title3"]  # JF
    if journal_like:
        full_title_fields.append("secondary_title")  # T2
    title = fields.first(*full_title_fields, "journal_name")
    abbreviation = fields.first("alternate_title1", "alternate_title2", "J1")  # J2, JA
    if not abbreviation:
        short = fields.first("journal_name")  # JO: the abbreviation when JF/T2 is given
        abbreviation = short if short != title else ""
    issns = unique([issn for _, value in fields.all("issn") for issn in issns_in(value)])
    # RIS does not say which ISSN is which. When two are given, Zotero (ISSN then
    # ISSN-L from PubMed) and Embase write the electronic one first and the print one
    # last; a single ISSN is kept as ``issn`` whatever its kind.
    journal = JournalRecord(
        title=title,
        iso_abbreviation=abbreviation,
        issn=issns[-1] if issns else "",
        eissn=issns[0] if len(issns) > 1 else "",
        publisher=fields.first("publisher"),
    )
    if not any((journal.title, journal.iso_abbreviation, journal.issn, journal.publisher)):
        return None
    return journal
