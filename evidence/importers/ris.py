"""RIS (Zotero, EndNote, Embase, Ovid, Scopus, Web of Science, Rayyan exports) to StudyRecords.

Lines are ``TY  - JOUR``: a two-character tag, two spaces, a hyphen, a space and the value;
``TY`` opens a record and ``ER`` closes it. Lines without a tag continue the previous
tag's value (wrapped titles, EndNote's one-keyword-per-line ``KW``).

Why not ``rispy.loads``: rispy 0.10 returns no line numbers (we must name the line of a
bad record), silently drops a last record that lacks ``ER``, and does not recognise tags
written with one space (``TY - JOUR``) as some exporters do. The reader below is a few
lines of tolerant tokenising; the meaning of each tag still comes from rispy's
``TAG_KEY_MAPPING``, so field names here match what rispy users expect.

Where each exporter keeps what RIS has no standard tag for (seen in real exports):
- PMID: AN (PubMed-derived files), ID (Ovid MEDLINE), C5 (Embase), C2 (Scopus),
  "PUBMED 123" in C3 (Cochrane CENTRAL), "PMID: 123" in notes, or only a PubMed link in
  UR/L2 (Mendeley, Zotero and Citavi records from lens.org).
- DOI: DO, a DOI-shaped M3 or L3 (EBSCOhost), a doi.org link in UR/L1/L2.
- Pages: SP/EP, else the article number in C7 (Scopus, Web of Science).
- Web of Science: "DA  - SEP 22" with the year only in PY, JI/PU for abbreviation and
  publisher, print ISSN before the electronic one.
- Rayyan glues tags it does not know onto the previous line ("DO  - 10.1/x     LK  - ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import rispy

from evidence.identifiers import (
    PMC_URL_RE,
    PUBMED_URL_RE,
    InvalidIdentifier,
    normalize_doi,
    normalize_orcid,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.medline import (
    add_identifier,
    author_from_name,
    issns_in,
    looks_collective,
    parse_date,
    split_abstract_sections,
    unique,
)
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    AuthorRecord,
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
# Rayyan writes tags it does not know on the previous tag's line, after a run of spaces:
# "DO  - 10.1038/x     LK  - https://...". Only the strict two-space form counts.
_GLUED_TAG_RE = re.compile(r"\s{2,}([A-Z][A-Z0-9])  - ")
# Lines exporters put between records, not worth a warning: Ovid's record numbers
# ("2. "), and the header Wiley's Cochrane Library export puts before every record.
_EXPORT_BANNER_RE = re.compile(
    r"^\s*(?:\d+\.?|Record #\d+ of \d+|Provider: .*|Content: text/.*)\s*$"
)
_TY_EXAMPLE = "no RIS records found (expected lines like 'TY  - JOUR')"

# Reference types whose T2 is the journal (for books and chapters it is the book or series).
_JOURNAL_TYPES = frozenset({"JOUR", "JFULL", "EJOUR", "MGZN", "NEWS", "ABST", "INPR", "SER"})
_BOOK_TYPES = frozenset({"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"})
_DOI_LIKE_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.\d{4,9}/", re.I)
_DOI_URL_RE = re.compile(r"https?://(?:dx\.)?doi\.org/\S+", re.I)
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
        value, *glued = _GLUED_TAG_RE.split(tag_line.group(2) or "") if tag_line else [""]
        value = value.strip()
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
            if line.strip() and not _EXPORT_BANNER_RE.match(line):
                outside.append(number)
            continue
        if tag == "ER":
            records.append(current)
            current = None
        elif tag_line is not None:
            current.fields.append((tag, [value], number))
            # split() alternates the glued tags and their values.
            for glued_tag, glued_value in zip(glued[::2], glued[1::2], strict=True):
                current.fields.append((glued_tag, [glued_value.strip()], number))
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
        # Only blank lines and record numbers: nothing to point at but the file.
        first_line = trailing[0] if trailing else None
        raise ParseError(_TY_EXAMPLE, SourceLocation(source_name, line=first_line))
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
            decode_warnings = []  # said once, on the first record
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

    def has(self, *names: str) -> bool:
        return any(self._values.get(name) for name in names)


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
    record.abstract = _abstract(fields)
    if not record.title and not (record.pmid or record.doi or record.pmcid):
        if not record.abstract:
            return InvalidRecord(
                location,
                "record has neither a title (TI/T1), an identifier (DO/AN) nor an abstract (AB)",
            )
        record.warnings.append(NEEDS_CURATION_WARNING)

    journal_like = _is_journal_like(reference_type)
    record.abstract_sections = split_abstract_sections(record.abstract)
    record.language = fields.first("language")
    record.volume = fields.first("volume", "VO")
    record.issue = fields.first("number", "CP")
    record.pages = _pages(fields.first("start_page"), fields.first("end_page"))
    if not record.pages and journal_like:
        # Scopus and Web of Science give online-only articles an article number in C7
        # ("e12292") where PubMed would put it in the pagination.
        record.pages = fields.first("custom7")
    record.pub_date = _publication_date(record, fields)
    record.journal = _journal(fields, journal_like)
    record.keywords = unique(
        [
            keyword
            for line in fields.lines("keywords")
            for kw in line.split(";")
            if (keyword := kw.strip()).casefold() not in _PLACEHOLDERS
        ]
    )
    record.authors = _authors(record, fields)
    record.citation_count = _citation_count(fields)
    return record


# Values exporters write for "nothing": Mendeley's "van den Hoven, null" (no given
# name), MDPI's "KW  - n/a" (no keywords).
_PLACEHOLDERS = frozenset({"null", "undefined", "n/a"})


def _is_journal_like(reference_type: str) -> bool:
    # Non-standard types ("Journal Article") are treated as journal articles.
    return reference_type in _JOURNAL_TYPES or not rispy.TYPE_OF_REFERENCE_MAPPING.get(
        reference_type
    )


# EBSCOhost appends where an abstract came from, and adds a second AB holding the
# publisher's copyright notice instead of an abstract.
_ABSTRACT_ORIGIN_RE = re.compile(r"\s*\[ABSTRACT FROM [A-Z ]+\]\s*$")
_COPYRIGHT_NOTICE_RE = re.compile(r"\(Copyright applies to all Abstracts\.?\)\s*$", re.I)


def _abstract(fields: _Fields) -> str:
    for _, value in fields.all("abstract", "notes_abstract"):
        if not _COPYRIGHT_NOTICE_RE.search(value):
            return _ABSTRACT_ORIGIN_RE.sub("", value)
    return ""


def _read_identifiers(record: StudyRecord, fields: _Fields) -> None:
    for tag, value in fields.all("doi"):
        add_identifier(record, "doi", normalize_doi, value, field=tag)
    # Some exporters put the DOI in M3 (a "type of work" slot elsewhere) or, as EBSCOhost
    # does, a bare DOI in L3 (a link field elsewhere): only if DOI-shaped.
    for tag, value in fields.all("type_of_work", "L3", "DI"):
        if _DOI_LIKE_RE.match(value):
            add_identifier(record, "doi", normalize_doi, value, field=tag)
    if not record.doi:
        for tag, value in fields.all(*_LINK_FIELDS):
            for url in _DOI_URL_RE.findall(value):
                add_identifier(record, "doi", normalize_doi, url.rstrip(";"), field=tag)

    _read_pmid(record, fields)
    for tag, value in fields.all("PMC", "accession_number", *_CUSTOM_FIELDS):
        if _PMCID_RE.match(value):
            add_identifier(record, "pmcid", normalize_pmcid, value, field=tag)
    for tag, value in _stated_once(fields, _NOTE_FIELDS, _PMCID_IN_NOTE_RE):
        add_identifier(record, "pmcid", normalize_pmcid, value, field=tag)
    # Links come last: lens.org records exported by Mendeley, Zotero or Citavi carry
    # their PubMed and PMC IDs nowhere else.
    for tag, value in _stated_once(fields, _LINK_FIELDS, PUBMED_URL_RE):
        add_identifier(record, "pmid", normalize_pmid, value, field=tag)
    for tag, value in _stated_once(fields, _LINK_FIELDS, PMC_URL_RE):
        add_identifier(record, "pmcid", normalize_pmcid, value, field=tag)


_LINK_FIELDS = ("urls", "file_attachments1", "file_attachments2", "L3")
_CUSTOM_FIELDS = tuple(f"custom{n}" for n in range(1, 9))
_NOTE_FIELDS = ("notes", "note", "research_notes", *_CUSTOM_FIELDS)
# "PMID: 23439512" (EndNote, Zotero), "PUBMED 38407106" (Cochrane CENTRAL's C3),
# "PMID: NLM29768149" (CINAHL).
_PMID_IN_NOTE_RE = re.compile(r"\b(?:PMID|PUBMED)(?:\s*ID)?:?\s*(?:NLM)?(\d{1,9})\b", re.I)
_PMCID_IN_NOTE_RE = re.compile(r"\bPMCID:?\s*(PMC\d{1,9})\b", re.I)
_EMBASE_ACCESSION_RE = re.compile(r"^L\d{6,}$")


def _read_pmid(record: StudyRecord, fields: _Fields) -> None:
    database = " ".join(v for _, v in fields.all("name_of_database", "database_provider"))
    database = database.lower()
    embase = "embase" in database
    if embase or _from_embase_com(fields):
        # Embase writes the MEDLINE PMID of a record in C5 (and its own ID in AN/U2),
        # also for records it took from MEDLINE, which say only "DB  - Medline".
        _pmid_from_digits(record, fields.all("custom5"), min_digits=1)
    if "scopus" in database:
        _pmid_from_digits(record, fields.all("custom2"), min_digits=1)
    if not embase and (not database or any(name in database for name in _PUBMED_DATABASES)):
        _pmid_from_digits(record, fields.all("accession_number"), min_digits=1)
        if "ovid" in database:
            # Ovid writes its accession number (for MEDLINE, the PMID) in ID; elsewhere
            # ID is the reference manager's record number ("ID  - 887" from EndNote).
            _pmid_from_digits(record, fields.all("id"), min_digits=1)
        # M1/C1/C2 also hold issue numbers or years in EndNote: short numbers are not PMIDs.
        _pmid_from_digits(record, fields.all("note", "custom1", "custom2"), min_digits=6)
    for tag, value in _stated_once(fields, _NOTE_FIELDS, _PMID_IN_NOTE_RE):
        add_identifier(record, "pmid", normalize_pmid, value, field=tag)


def _from_embase_com(fields: _Fields) -> bool:
    return any(_EMBASE_ACCESSION_RE.match(value) for _, value in fields.all("U2")) or any(
        "embase.com/" in value for _, value in fields.all("urls")
    )


def _stated_once(
    fields: _Fields, names: tuple[str, ...], pattern: re.Pattern[str]
) -> list[tuple[str, str]]:
    """The one value ``pattern`` finds in these fields, as [(tag, value)], else [].

    Notes and links also hold cited works (Ovid PsycInfo's M1 is the reference list):
    when they name several different IDs, none of them is known to be the record's.
    """
    found = [(tag, match) for tag, value in fields.all(*names) for match in pattern.findall(value)]
    if len({value.upper() for _, value in found}) != 1:
        return []
    return found[:1]


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


# Hyphens, dashes and the minus sign that page ranges are written with (Cochrane: U+2010).
_PAGE_RANGE_DASH_RE = re.compile(r"\s*(?:--?|[\u2010-\u2015\u2212])\s*")


def _pages(start: str, end: str) -> str:
    """'SP - 606' + 'EP - 608' -> '606-608'; SP may already hold a range."""
    start = _PAGE_RANGE_DASH_RE.sub("-", start)
    if start and end and "-" not in start and end != start:
        return f"{start}-{end}"
    return start


_YEAR_IN_DATE_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")


def _publication_date(record: StudyRecord, fields: _Fields) -> PublicationDate:
    """PY/Y1 give the year; DA ('2019/10//undefined') may add month and day."""
    year_tag, year_text = fields.first_with_tag("year", "publication_year")
    date_tag, date_text = fields.first_with_tag("date")
    by_year = parse_date(year_text, field=year_tag, warnings=record.warnings)
    if not date_text:
        return by_year
    if by_year.year is not None and not _YEAR_IN_DATE_RE.search(date_text):
        # Web of Science: "DA  - SEP 22" (or "DEC", "JUL-DEC") is the date in PY's year.
        date_text = f"{by_year.year} {date_text}"
    by_date = parse_date(date_text, field=date_tag, warnings=record.warnings)
    if by_year.year is None:
        return by_date if by_date.year is not None else by_year
    if by_date.year == by_year.year and by_date.month is not None and by_year.month is None:
        return by_date
    return by_year


def _journal(fields: _Fields, journal_like: bool) -> JournalRecord | None:
    full_title_fields = ["alternate_title3"]  # JF
    if journal_like:
        full_title_fields.append("secondary_title")  # T2
    title = fields.first(*full_title_fields, "journal_name")
    # J2, JA, then Web of Science's JI (its J9 is a 29-character upper-case code).
    abbreviation = fields.first("alternate_title1", "alternate_title2", "J1", "JI")
    if not abbreviation:
        short = fields.first("journal_name")  # JO: the abbreviation when JF/T2 is given
        abbreviation = short if short != title else ""
    issns = unique([issn for _, value in fields.all("issn") for issn in issns_in(value)])
    # RIS does not say which ISSN is which. When two are given, Zotero (ISSN then
    # ISSN-L from PubMed) and Embase write the electronic one first and the print one
    # last; Web of Science writes its SN (print) before its EI (electronic). A single
    # ISSN is kept as ``issn`` whatever its kind.
    if _is_web_of_science(fields):
        issns.reverse()
    journal = JournalRecord(
        title=title,
        iso_abbreviation=abbreviation,
        issn=issns[-1] if issns else "",
        eissn=issns[0] if len(issns) > 1 else "",
        publisher=fields.first("publisher", "PU"),  # PU: Web of Science
    )
    if not any((journal.title, journal.iso_abbreviation, journal.issn, journal.publisher)):
        return None
    return journal


def _is_web_of_science(fields: _Fields) -> bool:
    # Its exports have no DB; the accession number ("WOS:000387978600002") and the tags
    # only it writes (WE: citation index, J9: its own journal code) say where they are from.
    accessions = (value for _, value in fields.all("accession_number"))
    return fields.has("WE", "J9") or any(v.upper().startswith("WOS:") for v in accessions)


# EPPI-Reviewer writes "Dos Santos, H.B." as two authors, "Dos Santos" and "H B".
_INITIALS_ONLY_RE = re.compile(r"^(?:[A-Z]\.?[\s-]*){1,4}$")


def _authors(record: StudyRecord, fields: _Fields) -> list[AuthorRecord]:
    names: list[str] = []
    for _, name in fields.all("authors", "first_authors"):
        if names and _INITIALS_ONLY_RE.match(name) and _is_bare_surname(names[-1]):
            names[-1] = f"{names[-1]}, {name}"
        else:
            names.append(name)
    authors = [author for name in names if (author := _author(name)) is not None]
    _attach_orcids(record, authors, fields)
    return authors


def _is_bare_surname(name: str) -> bool:
    """'Dos Santos' but not 'Troiano L P', 'Smith, J' or a group."""
    tokens = name.split()
    return (
        "," not in name and not _INITIALS_ONLY_RE.match(tokens[-1]) and not looks_collective(name)
    )


def _author(name: str) -> AuthorRecord | None:
    last, comma, given = name.partition(",")
    if comma and given.strip().casefold() in _PLACEHOLDERS:
        # "van den Hoven, null": without the comma the particles would read as a given name.
        return AuthorRecord(last_name=last.strip()) if last.strip() else None
    return author_from_name(name)


def _attach_orcids(record: StudyRecord, authors: list[AuthorRecord], fields: _Fields) -> None:
    """Ovid's 'AI  - Keefer, Amy; ORCID: https://orcid.org/0000-...' names its author."""
    for tag, value in fields.all("AI"):
        name, _, identifier = value.partition(";")
        if "orcid" not in identifier.lower():
            continue
        try:
            orcid = normalize_orcid(identifier)
        except InvalidIdentifier as exc:
            record.warnings.append(f"{tag}: {exc}; value dropped")
            continue
        named = author_from_name(name)
        for author in authors if named is not None else ():
            same_name = author.last_name.casefold() == named.last_name.casefold()
            if same_name and author.initials[:1] == named.initials[:1] and not author.orcid:
                author.orcid = orcid
                break


# Scopus: "N1  - Export Date: 05 August 2024; Cited By: 2; ..."; Web of Science:
# "N1  - Times Cited in Web of Science Core Collection:  142" (its TC).
_CITATION_COUNT_RE = re.compile(
    r"\b(?:Cited By|Times Cited in Web of Science Core Collection)\s*:\s*(\d+)", re.I
)


def _citation_count(fields: _Fields) -> int | None:
    for _, value in fields.all("notes"):
        if found := _CITATION_COUNT_RE.search(value):
            return int(found.group(1))
    return None
