"""MEDLINE/PubMed text format (PubMed "Save > PubMed format", .nbib/.txt) to StudyRecords.

The format is a sequence of records separated by blank lines. Each field is a line
``TAG - value`` with the tag padded to four columns (``PMID- 123``, ``TI  - ...``) and
continuation lines indented by six spaces. Repeated tags (``AU``, ``MH``, ``OT``...) are
lists. Other sources reuse the format loosely (ERIC writes ``ISSN - EISSN-...`` and has
no PMID), so the reader is tolerant about padding and about a missing blank line
between records.

This module also holds small helpers shared with the RIS and BibTeX parsers (author
names, dates, identifiers, abstract sections), so the three formats agree on them.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from evidence.identifiers import (
    InvalidIdentifier,
    normalize_doi,
    normalize_issn,
    normalize_orcid,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    AbstractSectionRecord,
    AuthorRecord,
    GrantRecord,
    InvalidRecord,
    JournalRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    ParsedItem,
    ParseError,
    PublicationDate,
    PublicationTypeRecord,
    RelatedArticleRecord,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import clean, read_text

__all__ = ["parse"]

# ---------------------------------------------------------------------------------------
# Helpers shared by the MEDLINE, RIS and BibTeX parsers.
# ---------------------------------------------------------------------------------------

MIN_YEAR = 1000
MAX_YEAR = 2100

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# Words that never occur in a person's name but do in group authors ("Canadian
# Respiratory Research Network", "Emergency Cardiovascular Care Committee").
_COLLECTIVE_RE = re.compile(
    r"\b(?:groups?|network|consortium|committee|association|collaboration|collaborative"
    r"|collaborators|council|society|investigators|trialists|organi[sz]ation|institute"
    r"|foundation|federation|agency|academy|initiative|task force|working party"
    r"|writing group|panel)\b",
    re.IGNORECASE,
)
# A run of initials as MEDLINE AU ("JA"), Embase ("M.A.") or Reference Manager write them.
_INITIALS_TOKEN_RE = re.compile(r"^(?:[A-Z]\.?-?){1,5}$")
# Generational suffixes as MEDLINE writes them after the name ("FAU - Wright, Jackson T Jr",
# "AU  - Gilliam FR 3rd"). Roman numerals are left alone: "Ivanov II" is two initials.
_SUFFIX_TOKEN_RE = re.compile(r"^(?:jr|sr|[2-9](?:nd|rd|th))\.?$", re.IGNORECASE)
# Pre-1996 MEDLINE records stop at ten authors and end the list with "AU  - et al.".
_ET_AL_RE = re.compile(r"^et\.?\s*al\.?$", re.IGNORECASE)
_NAME_SPLIT_RE = re.compile(r"[\s.\-\u2010\u2011]+")


def looks_collective(name: str) -> bool:
    """True for group authors: a person's name never contains these words."""
    return bool(_COLLECTIVE_RE.search(name))


def initials_from(fore_name: str) -> str:
    """'Fore Name' -> 'FN', 'Theo J. H. M.' -> 'TJHM', 'Jean-Pierre' -> 'JP', 'JA' -> 'JA'."""
    letters: list[str] = []
    for token in _NAME_SPLIT_RE.split(fore_name):
        if not token or not token[0].isalpha():
            continue
        if token.isupper() and 1 < len(token) <= 3 and token.isalpha():
            # Run-together initials as in "Casbon, JA".
            letters.extend(token)
        elif token[0].islower() and len(token) > 1:
            continue  # particles such as "del" in "Maria del Carmen"
        else:
            letters.append(token[0].upper())
    return "".join(letters)


def _without_suffix(tokens: list[str]) -> list[str]:
    """Name tokens without trailing 'Jr', 'Sr', '3rd'...; a lone token is kept."""
    while len(tokens) > 1 and _SUFFIX_TOKEN_RE.match(tokens[-1]):
        tokens = tokens[:-1]
    return tokens


def author_from_name(text: str) -> AuthorRecord | None:
    """One author as reference managers write it, or None for an empty string or 'et al.'.

    Handles 'Last, Fore', 'Last,F.I.', 'Last, Fore, Suffix', 'Last FI' (MEDLINE AU),
    'Last F.I.' (Embase), 'Fore Last', MEDLINE's 'Last, Fore Jr' / 'Last FI Jr' (the
    suffix is dropped, as the XML parser drops <Suffix>), and group authors.
    """
    name = clean(text).strip(" ;,")
    if not name or _ET_AL_RE.match(name):
        return None
    if looks_collective(name):
        return AuthorRecord(collective_name=name)
    if "," in name:
        last, _, rest = name.partition(",")
        # RIS allows "Last, First, Suffix": the suffix is not part of the given name.
        fore = " ".join(_without_suffix(rest.split(",")[0].split()))
        last = last.strip()
        if not last:
            return AuthorRecord(last_name=fore, initials="") if fore else None
        return AuthorRecord(last_name=last, fore_name=fore, initials=initials_from(fore))
    tokens = _without_suffix(name.split())
    name = " ".join(tokens)
    if len(tokens) == 1:
        return AuthorRecord(last_name=name)
    # Trailing initials: "Casbon JA", "Liu R.", "de Hoon MJ", "Smith J A".
    split = len(tokens)
    while split > 1 and _INITIALS_TOKEN_RE.match(tokens[split - 1]):
        split -= 1
    if split < len(tokens):
        initials = "".join(ch for ch in "".join(tokens[split:]) if ch.isalpha())
        return AuthorRecord(last_name=" ".join(tokens[:split]), initials=initials)
    # "Fore Middle von Last": lower-case particles before the last word join the surname.
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1][:1].islower():
        start -= 1
    fore = " ".join(tokens[:start])
    return AuthorRecord(
        last_name=" ".join(tokens[start:]), fore_name=fore, initials=initials_from(fore)
    )


def add_identifier(
    record: StudyRecord,
    attr: str,
    normaliser: Callable[[str], str],
    value: str | None,
    *,
    field: str,
) -> bool:
    """Set ``record.<attr>`` from ``value`` unless already set; warn and drop if invalid."""
    if getattr(record, attr) or not value or not value.strip():
        return False
    try:
        normalised = normaliser(value)
    except InvalidIdentifier as exc:
        record.warnings.append(f"{field}: {exc}; value dropped")
        return False
    setattr(record, attr, normalised)
    return bool(normalised)


_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC_TAIL_RE = re.compile(r"^[-/.](\d{1,2})(?!\d)(?:[-/.](\d{1,2})(?!\d))?")
_TEXT_TAIL_RE = re.compile(r"^[\s,]+([A-Za-z]+)\.?(?:[\s,]+(\d{1,2})(?!\d))?")


def parse_date(text: str | None, *, field: str, warnings: list[str]) -> PublicationDate:
    """'2015 Mar 5', '2015 Mar-Apr', '2015 Spring', '2019/03/05/', '2019///', '20060110'.

    The raw string is kept in ``text``; an implausible year is dropped with a warning.
    """
    raw = clean(text)
    date = PublicationDate(text=raw)
    if not raw:
        return date
    month_text: str | None = None
    day_text: str | None = None
    if compact := _COMPACT_DATE_RE.match(raw):
        year_text, month_text, day_text = compact.groups()
    else:
        found = _YEAR_RE.search(raw)
        if not found:
            warnings.append(f"{field}: no year in {raw!r}")
            return date
        year_text = found.group(1)
        tail = raw[found.end() :]
        if numeric := _NUMERIC_TAIL_RE.match(tail):
            month_text, day_text = numeric.groups()
        elif textual := _TEXT_TAIL_RE.match(tail):
            month_number = _MONTHS.get(textual.group(1).lower())
            if month_number is not None:
                month_text, day_text = str(month_number), textual.group(2)
    year = checked_year(int(year_text), field=field, warnings=warnings)
    if year is None:
        return date
    date.year = year
    if month_text is not None and 1 <= int(month_text) <= 12:
        date.month = int(month_text)
        if day_text is not None and 1 <= int(day_text) <= calendar.monthrange(year, date.month)[1]:
            date.day = int(day_text)
    return date


def checked_year(year: int | None, *, field: str, warnings: list[str]) -> int | None:
    if year is None:
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        warnings.append(f"{field}: year {year} outside {MIN_YEAR}-{MAX_YEAR}; dropped")
        return None
    return year


# "BACKGROUND: ... METHODS: ..." as PubMed flattens structured abstracts into text.
_SECTION_LABEL_RE = re.compile(r"(?:^|(?<=\s))([A-Z][A-Z ,&/-]{2,40}):\s")
_SECTION_CATEGORIES = [
    ("BACKGROUND", ("BACKGROUND", "INTRODUCTION", "CONTEXT", "RATIONALE")),
    ("OBJECTIVE", ("OBJECTIVE", "AIM", "PURPOSE", "GOAL")),
    ("METHODS", ("METHOD", "DESIGN", "SETTING", "PARTICIPANTS", "PATIENTS", "MATERIALS")),
    ("RESULTS", ("RESULT", "FINDINGS")),
    ("CONCLUSIONS", ("CONCLUSION", "INTERPRETATION")),
]


def _section_category(label: str) -> str:
    for category, stems in _SECTION_CATEGORIES:
        if any(stem in label for stem in stems):
            return category
    return ""


def split_abstract_sections(abstract: str) -> list[AbstractSectionRecord]:
    """Sections of a flattened structured abstract, or [] when it is not structured.

    The abstract must start with an upper-case label and have at least two of them, so
    that an acronym followed by a colon in running text ("HIV: ...") is not a section.
    """
    if not _SECTION_LABEL_RE.match(abstract):
        return []
    labels = list(_SECTION_LABEL_RE.finditer(abstract))
    if len(labels) < 2:
        return []
    sections = []
    for index, match in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(abstract)
        label = match.group(1).strip()
        sections.append(
            AbstractSectionRecord(
                label=label,
                category=_section_category(label),
                text=abstract[match.end() : end].strip(),
            )
        )
    return sections


_ISSN_IN_TEXT_RE = re.compile(r"(?<![\dX-])(\d{4}-?\d{3}[\dXx])(?![\dX])")


def issns_in(text: str) -> list[str]:
    """ISSNs found in a free-text field ('1128-045X 1123-6337'), normalised, in order."""
    found: list[str] = []
    for match in _ISSN_IN_TEXT_RE.finditer(text):
        issn = normalize_issn(match.group(1))
        if issn not in found:
            found.append(issn)
    return found


def unique(values: list[str]) -> list[str]:
    """Non-empty values, first occurrence kept, order preserved."""
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


# ---------------------------------------------------------------------------------------
# MEDLINE reader
# ---------------------------------------------------------------------------------------

# "PMID- 123", "TI  - x", "ISSN - x" (ERIC), "AB  -" (empty value).
_TAG_LINE_RE = re.compile(r"^([A-Z][A-Z0-9]{1,3})\s*-(?:\s(.*)|$)")
# "PMID-22664220", "TI  -Title" (JabRef's test files, hand-edited exports): no space after
# the dash. Accepted only for a tag of NLM's field list with the dash in PubMed's column,
# so that an unindented stray line ("ACE2-mediated...") is not read as a field.
_TIGHT_TAG_LINE_RE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) *-(.*)$")
# The tags of NLM's MEDLINE/PubMed field descriptions, as one string to keep it readable.
_NLM_TAGS = frozenset(
    "AB AD AID AU AUID BTI CDAT CI CIN CN COIS CON CP CRDT CRF CRI CTDT CTI CY DA DCOM DDIN"  # noqa: SIM905
    " DEP DP DRDT DRIN ECF ECI ED EDAT EFR EIN EN FAU FED FIR FPS GN GR GS IP IR IRAD IS ISBN"
    " JID JT LA LID LR MH MHDA MID NM OAB OABL OCI OID ORI OT OTO OWN PB PG PHST PL PMC PMCR"
    " PMID PRIN PROF PS PST PT PUBM RF RIN RN ROF RPF RPI RRF RRI SB SFM SI SO SPIN STAT TA TI"
    " TT UIN UOF VI VTI".split()
)
# Fields PubMed never continues on a second line: text without a tag after one of them is
# a stray line, and joining it would destroy the value ("PMID- 1 SO invalid line").
_UNWRAPPED_TAGS = frozenset(
    {"PMID", "PMC", "OWN", "STAT", "DA", "DCOM", "LR", "DEP", "EDAT", "MHDA", "CRDT", "PST"}
    | {"LA", "VI", "IP", "JID", "PMCR", "PUBM"}
)
# Tags only MEDLINE writes; a file with none of them is not MEDLINE (RIS shares TI, AU...).
_MEDLINE_MARKER_TAGS = frozenset(
    {"PMID", "OWN", "STAT", "FAU", "JT", "JID", "SO", "DCOM", "EDAT", "PHST", "MH", "PST"}
)
_PMID_EXAMPLE = "no MEDLINE records found (expected lines like 'PMID- 123')"


@dataclass(slots=True)
class _RawRecord:
    line: int
    fields: list[tuple[str, list[str], int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def has_tag(self, tag: str) -> bool:
        return any(t == tag for t, _, _ in self.fields)


def _tag_and_value(line: str) -> tuple[str, str] | None:
    """('TI', 'x') for a field line, None for a continuation or stray line."""
    if line[:1].isspace():
        return None
    if tag_line := _TAG_LINE_RE.match(line):
        return tag_line.group(1), (tag_line.group(2) or "").strip()
    tight = _TIGHT_TAG_LINE_RE.match(line)
    if tight and tight.group(1) in _NLM_TAGS and line[4:5] == "-":
        return tight.group(1), tight.group(2).strip()
    return None


def _split_records(text: str) -> Iterator[_RawRecord]:
    current: _RawRecord | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if current is not None:
                yield current
                current = None
            continue
        tag_and_value = _tag_and_value(line)
        if tag_and_value is None:
            if current is None:
                current = _RawRecord(line=number)
            if not current.fields:
                current.warnings.append(f"line {number}: text outside any field ignored")
                continue
            previous_tag = current.fields[-1][0]
            if previous_tag in _UNWRAPPED_TAGS:
                current.warnings.append(
                    f"line {number}: text without a tag after {previous_tag} ignored: "
                    f"{line.strip()!r}"
                )
                continue
            # PubMed indents by six spaces; a tab or a single space (an old PubMed bug
            # splitting "isolation &\n purification") is still a continuation.
            if not line[:1].isspace():
                current.warnings.append(
                    f"line {number}: text without a tag or indentation joined to {previous_tag}"
                )
            current.fields[-1][1].append(line.strip())
            continue
        tag, value = tag_and_value
        if current is not None and tag == "PMID" and current.has_tag("PMID"):
            # Concatenated exports sometimes lose the blank line between records.
            yield current
            current = None
        if current is None:
            current = _RawRecord(line=number)
        current.fields.append((tag, [value], number))
    if current is not None:
        yield current


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    """Yield one StudyRecord (or InvalidRecord) per MEDLINE record in ``stream``."""
    text, decode_warnings = read_text(stream, source_name=source_name)
    if not text.strip():
        raise ParseError(f"empty file: {_PMID_EXAMPLE}", SourceLocation(source_name))
    raw_records = list(_split_records(text))
    tags = {tag for raw in raw_records for tag, _, _ in raw.fields}
    if not (tags & _MEDLINE_MARKER_TAGS or _sparse_medline(text, tags)):
        raise ParseError(
            _not_medline_reason(text), SourceLocation(source_name, line=raw_records[0].line)
        )
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


# Fields a sparse record may consist of: what EviDB's own MEDLINE export writes for a
# study without PMID, journal or authors (an evidence summary has only its abstract).
_CONTENT_TAGS = frozenset({"TI", "BTI", "TT", "AB", "AU", "DP", "TA", "LID", "AID", "OT"})


def _sparse_medline(text: str, tags: set[str]) -> bool:
    """Whether a file without any tag only PubMed writes is still MEDLINE: its fields
    are MEDLINE's, and it has none of the RIS or Web of Science lines that look alike."""
    return bool(tags & _CONTENT_TAGS) and not (
        _RIS_RE.search(text) or _WOS_HEADER_RE.search(text) or _WOS_END_RE.search(text)
    )


# Formats that share the look of MEDLINE, named in the error so the user knows what they
# have: Web of Science "Other reference software" files ("FN Clarivate Analytics Web of
# Science", "PT J", two-letter tags without a dash, "ER" closing each record) and RIS.
_WOS_HEADER_RE = re.compile(r"^(?:FN |VR \d)", re.MULTILINE)
_WOS_TYPE_RE = re.compile(r"^PT [A-Z][ \t]*$", re.MULTILINE)
_WOS_END_RE = re.compile(r"^ER[ \t]*$", re.MULTILINE)
_RIS_RE = re.compile(r"^TY {1,2}- ", re.MULTILINE)


def _not_medline_reason(text: str) -> str:
    if _WOS_HEADER_RE.search(text) or (_WOS_TYPE_RE.search(text) and _WOS_END_RE.search(text)):
        return (
            f"{_PMID_EXAMPLE}: this looks like a Web of Science export (two-letter tags "
            "without '-', records ending in 'ER'), not PubMed's MEDLINE format"
        )
    if _RIS_RE.search(text):
        return f"{_PMID_EXAMPLE}: this looks like a RIS file ('TY  - '); import it as RIS"
    if not _ANY_TAG_RE.search(text) and _PROSE_RE.search(text):
        # A summary without its "View Original Abstract" marker, or an article page
        # without its header, is only prose to detection; the user knows which it is.
        return (
            f"{_PMID_EXAMPLE}: this reads as prose; if it is an evidence summary or an "
            "article page, import it with the format evidence-summary or article-page"
        )
    return _PMID_EXAMPLE


# A line that starts like a tagged field of MEDLINE, RIS or Web of Science.
_ANY_TAG_RE = re.compile(r"^[A-Z][A-Z0-9]{1,3} *- ", re.MULTILINE)
# Two sentences of words: ". " between lower-case text and a capital.
_PROSE_RE = re.compile(r"[a-z]{3,}[.;] +[A-Z][a-z]+ [a-z]+")


# NLM's Comments/Corrections tags, as the RefType PubMed XML gives the same link
# (RelatedArticleRecord.relation), so both formats flag retractions alike.
_RELATION_TAGS = {
    "CON": "CommentOn",
    "CIN": "CommentIn",
    "EIN": "ErratumIn",
    "EFR": "ErratumFor",
    "CRI": "CorrectedandRepublishedIn",
    "CRF": "CorrectedandRepublishedFrom",
    "RIN": "RetractionIn",
    "ROF": "RetractionOf",
    "RRI": "RetractedandRepublishedIn",
    "RRF": "RetractedandRepublishedFrom",
    "PRIN": "PartialRetractionIn",
    "PROF": "PartialRetractionOf",
    "RPI": "RepublishedIn",
    "RPF": "RepublishedFrom",
    "UIN": "UpdateIn",
    "UOF": "UpdateOf",
    "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn",
    "ECI": "ExpressionOfConcernIn",
    "ECF": "ExpressionOfConcernFor",
}

# Tags read below; the others (PHST, EDAT, CI, RN...) are not worth cleaning. IR/FIR
# (investigators) and FED/ED (book editors) are read only to know that the AD and AUID
# lines after them are not an author's.
_USED_TAGS = frozenset(
    {"PMID", "TI", "BTI", "TT", "AB", "LA", "VI", "IP", "PG", "DP", "DEP", "LID", "AID", "PMC"}
    | {"JT", "TA", "JID", "PB", "IS", "ISSN", "PT", "MH", "OT"}
    | {"FAU", "AU", "CN", "AD", "AUID", "IR", "FIR", "FED", "ED"}
    | {"GR", "COIS"}
    | _RELATION_TAGS.keys()
)


def _build_record(raw: _RawRecord, location: SourceLocation) -> ParsedItem:
    if not raw.fields:
        return InvalidRecord(location, "no MEDLINE fields (expected lines like 'TI  - title')")
    used = [
        (tag, clean(" ".join(parts)), number)
        for tag, parts, number in raw.fields
        if tag in _USED_TAGS
    ]
    values: dict[str, list[str]] = defaultdict(list)
    for tag, value, _ in used:
        values[tag].append(value)

    def first(*tags: str) -> str:
        for tag in tags:
            for value in values.get(tag, ()):
                if value:
                    return value
        return ""

    record = StudyRecord(location=location, warnings=list(raw.warnings))
    add_identifier(record, "pmid", normalize_pmid, first("PMID"), field="PMID")
    # A book's own record has only BTI; TT (the title in its original language) stands in
    # when there is no English one, as VernacularTitle does in PubMed XML.
    record.title = first("TI", "BTI", "TT")
    record.abstract = first("AB")
    if not record.pmid and not record.title:
        if not record.abstract:
            return InvalidRecord(
                location, "record has neither a PMID, a title (TI/BTI/TT) nor an abstract (AB)"
            )
        record.warnings.append(NEEDS_CURATION_WARNING)
    record.abstract_sections = split_abstract_sections(record.abstract)
    record.language = first("LA")
    record.volume = first("VI")
    record.issue = first("IP")
    record.pages = first("PG")
    date_tag = "DP" if first("DP") else "DEP"
    record.pub_date = parse_date(first(date_tag), field=date_tag, warnings=record.warnings)

    _read_article_ids(record, values)
    add_identifier(record, "pmcid", normalize_pmcid, first("PMC"), field="PMC")
    record.journal = _read_journal(record, values, first)
    record.publication_types = [PublicationTypeRecord(name=v) for v in unique(values["PT"])]
    record.mesh_headings = [_mesh_heading(v) for v in values["MH"] if v.strip("*/ ")]
    record.keywords = unique(values["OT"])
    record.authors = _read_authors(record, used)
    record.related_articles = _read_related_articles(record, used)
    record.grants = [grant for value in values["GR"] if (grant := grant_from_line(value))]
    record.conflict_of_interest = first("COIS")
    return record


# PubMed's institute codes in GR lines: "CA", "HL", "WT_", "MRC_", "ImNIH", "NULL".
_GRANT_ACRONYM_RE = re.compile(r"^[A-Za-z]{2,6}_?$")


def grant_from_line(value: str) -> GrantRecord | None:
    """A GR line, PubMed's Grant with its parts joined by "/" and the missing ones left
    out: 'R01 CA123456/CA/NCI NIH HHS/United States', '089176/Wellcome Trust/United
    Kingdom', 'MR/K006584/1/MRC_/Medical Research Council/United Kingdom'.

    Grant numbers may hold slashes themselves, so the line is read from the end: the
    country, the agency, then an institute code when the part before looks like one
    (letters only) and is not all that is left of a number.
    """
    parts = [part.strip() for part in value.split("/")]
    if not any(parts):
        return None
    if len(parts) == 1:
        return GrantRecord(agency=parts[0])
    country, agency, rest = parts[-1], parts[-2], parts[:-2]
    acronym = ""
    if rest and _GRANT_ACRONYM_RE.match(rest[-1]):
        acronym = rest.pop()
    return GrantRecord(
        agency=agency,
        grant_id="/".join(rest),
        acronym="" if acronym == "NULL" else acronym,
        country=country,
    )


# An LID/AID without PubMed's "[doi]" marker that is still a DOI: ERIC's resolver URLs,
# "doi:10.1016/..." (JabRef's test files), a bare "10.1016/..." from re-exporting tools.
# Other untyped values ("e0216543", a PLOS article number) are not identifiers.
_UNTYPED_DOI_RE = re.compile(r"^(?:doi:\s*|\S*doi\.org/)?10\.\d{4,9}/", re.IGNORECASE)


def _read_article_ids(record: StudyRecord, values: dict[str, list[str]]) -> None:
    """LID/AID: '10.1/x [doi]', 'S0140-... [pii]', 'PMC123 [pmc]'; ERIC gives bare URLs."""
    for tag in ("LID", "AID"):
        for value in values.get(tag, ()):
            kind = re.search(r"\[(\w+)\]\s*$", value)
            if kind is None:
                if _UNTYPED_DOI_RE.match(value):
                    add_identifier(record, "doi", normalize_doi, value, field=tag)
                continue
            identifier = value[: kind.start()].strip()
            if kind.group(1).lower() == "doi":
                add_identifier(record, "doi", normalize_doi, identifier, field=tag)
            elif kind.group(1).lower() == "pmc":
                add_identifier(record, "pmcid", normalize_pmcid, identifier, field=tag)


_ISSN_FIELD_RE = re.compile(r"(E?ISSN)?[-:\s]*(\d{4}-?\d{3}[\dXx])\s*(?:\((\w+)\))?", re.I)


def _read_journal(
    record: StudyRecord, values: dict[str, list[str]], first: Callable[..., str]
) -> JournalRecord | None:
    journal = JournalRecord(
        title=first("JT"),
        iso_abbreviation=first("TA"),
        nlm_id=first("JID"),
        publisher=first("PB"),
    )
    linking = ""
    for tag in ("IS", "ISSN"):
        for value in values.get(tag, ()):
            match = _ISSN_FIELD_RE.search(value)
            if match is None:
                record.warnings.append(f"{tag}: not an ISSN: {value!r}; value dropped")
                continue
            issn = normalize_issn(match.group(2))
            kind = (match.group(3) or match.group(1) or "").lower()
            if kind in ("electronic", "eissn"):
                journal.eissn = journal.eissn or issn
            elif kind == "linking":
                linking = linking or issn
            else:
                journal.issn = journal.issn or issn
    # The linking ISSN (ISSN-L) is the print one for almost every journal.
    if not journal.issn and linking and linking != journal.eissn:
        journal.issn = linking
    if not any(
        (journal.title, journal.iso_abbreviation, journal.issn, journal.eissn, journal.publisher)
    ):
        return None
    return journal


def _mesh_heading(value: str) -> MeshHeadingRecord:
    """'Osteonecrosis/*therapy/etiology', '*Stem Cells': '*' marks a major topic."""
    descriptor, *qualifiers = (part.strip() for part in value.split("/"))
    return MeshHeadingRecord(
        descriptor=descriptor.lstrip("*").strip(),
        is_major=descriptor.startswith("*"),
        qualifiers=[
            MeshQualifierRecord(name=q.lstrip("*").strip(), is_major=q.startswith("*"))
            for q in qualifiers
            if q.strip("* ")
        ],
    )


def _read_authors(record: StudyRecord, fields: list[tuple[str, str, int]]) -> list[AuthorRecord]:
    """FAU/AU pairs, CN group authors, AD and AUID attached to the author before them.

    FAU ("Casbon, James A") gives the full name and the AU that follows it ("Casbon JA")
    the initials. Older records put one AD before the authors: it is the first author's.
    Investigators (IR/FIR) and book editors (FED/ED) are not authors, and the AD or AUID
    lines after one of them are theirs.
    """
    authors: list[AuthorRecord] = []
    leading_affiliations: list[str] = []
    owner: AuthorRecord | None = None  # whom the next AD or AUID line describes
    after_non_author = False
    awaiting_initials = False
    for tag, value, number in fields:
        if not value:
            continue
        if tag == "FAU":
            author = author_from_name(value)
            if author is not None:
                authors.append(author)
                awaiting_initials = not author.collective_name
            owner = author
            continue
        if tag == "AU":
            parsed = author_from_name(value)
            if awaiting_initials and parsed is not None and parsed.initials:
                authors[-1].initials = parsed.initials
            elif not awaiting_initials:
                if parsed is not None:
                    authors.append(parsed)
                owner = parsed
            awaiting_initials = False
            continue
        if tag == "CN":
            owner = AuthorRecord(collective_name=value)
            authors.append(owner)
        elif tag in ("IR", "FIR", "FED", "ED"):
            owner = None
            after_non_author = True
        elif tag == "AD":
            if owner is not None:
                owner.affiliations.append(value)
            elif not authors and not after_non_author:
                leading_affiliations.append(value)
        elif tag == "AUID" and owner is not None and value.upper().startswith("ORCID"):
            try:
                orcid = normalize_orcid(value.split(":", 1)[-1])
            except InvalidIdentifier as exc:
                record.warnings.append(f"AUID (line {number}): {exc}; value dropped")
            else:
                owner.orcid = owner.orcid or orcid
        awaiting_initials = False
    if authors and leading_affiliations:
        authors[0].affiliations[:0] = leading_affiliations
    return authors


# "... doi: 10.1056/NEJMe2001126. PMID: 31978944": PubMed appends the linked record's PMID
# to its citation, the very thing PubMed XML keeps apart as RefSource and PMID.
_CROSS_REFERENCE_PMID_RE = re.compile(r"\.?\s*\bPMID:\s*(\d+)\.?$")


def _read_related_articles(
    record: StudyRecord, fields: list[tuple[str, str, int]]
) -> list[RelatedArticleRecord]:
    """CIN, RIN, EIN... lines: other papers about this one, never its own identifiers."""
    related: list[RelatedArticleRecord] = []
    for tag, value, number in fields:
        relation = _RELATION_TAGS.get(tag)
        if relation is None or not value:
            continue
        ref_source, pmid = value, ""
        if cross_reference := _CROSS_REFERENCE_PMID_RE.search(value):
            ref_source = value[: cross_reference.start()]
            try:
                pmid = normalize_pmid(cross_reference.group(1))
            except InvalidIdentifier as exc:
                record.warnings.append(f"{tag} (line {number}): {exc}; citation kept")
        ref_source = ref_source.strip().removesuffix(".").rstrip()
        if ref_source or pmid:
            related.append(
                RelatedArticleRecord(relation=relation, ref_source=ref_source, pmid=pmid)
            )
    return related
