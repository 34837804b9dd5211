"""Parser for article pages: a PubMed-mirror web page saved as plain text.

The page looks like this (every section may be missing; a file may hold several pages,
each starting with its header line)::

    » Articles » PMID: 33081809
    Mesenchymal Stromal Cells for Osteonecrosis
    Overview
    Journal J Transl Med
    Publisher Biomed Central
    Date 2020 Oct 21
    PMID 33081809
    Citations 11
    Authors
    Affiliations
    Soon will be listed here.
    Abstract
    <paragraphs>
    Citing Articles
    <title line>
    Lu Y, Pei Y, Zhang Y Front Endocrinol (Lausanne). 2024; 15:1344917.
    PMID: 38745949 PMC: 11091469. DOI: 10.3389/fendo.2024.1344917.
    References
    1.
    Pepke W, Egermann M . Core Decompression ... Study. Orthop Rev (Pavia). 2016; 8(1):6162.
    PMC: 4821226. DOI: 10.4081/or.2016.6162. View

Titles lose the trailing period the citation style adds (PubMed's own titles keep
theirs; matching goes through ``normalize_title``, which ignores punctuation).

Pages vary: headings may print a count ("Citing Articles (0)", "References (32)"; a count
that differs from the entries read is reported as a possible truncation); references may
be unnumbered (one per line, or separated by blank lines or the "View" link) and wrap over
lines; DOIs may be resolver links; the date may be written "21 Oct 2020", "October 21,
2020" or "10/21/2020" (a day/month order that cannot be told keeps the year only); the
count may be labelled "Cited by". A second Overview inside one page means a page lost its
header line: that page is an InvalidRecord, the file's other pages are still read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from evidence.identifiers import (
    InvalidIdentifier,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
)
from evidence.importers.medline import author_from_name, parse_date, split_abstract_sections
from evidence.importers.records import (
    AbstractSectionRecord,
    AuthorRecord,
    InvalidRecord,
    JournalRecord,
    MeshHeadingRecord,
    ParsedItem,
    ParseError,
    PublicationDate,
    PublicationTypeRecord,
    SourceLocation,
    StudyRecord,
    WorkRecord,
)
from evidence.importers.text import clean, read_text

__all__ = ["parse", "parse_citation_line", "parse_reference"]

# Saved without the colon too ("» Articles » PMID 33081809").
_HEADER_RE = re.compile(r"^\s*(?:»|>>)\s*Articles\s*(?:»|>>)\s*PMID:?\s*(\S*)\s*$", re.IGNORECASE)
# "Citing Articles (5)", "References (32)": the page prints how many entries follow.
_HEADING_COUNT_RE = re.compile(r"\s*\((\d{1,3}(?:,\d{3})*|\d+)\)$")

# Headings are whole lines; anything not listed stays inside the section above it.
_SECTIONS = {
    "overview": "overview",
    "authors": "authors",
    "affiliations": "affiliations",
    "abstract": "abstract",
    "citing articles": "citing",
    "cited by": "citing",
    "references": "references",
    "keywords": "keywords",
    "mesh terms": "mesh",
    "publication types": "publication_types",
    # Known page furniture: recognised so it does not leak into the section above.
    "similar articles": "ignored",
    "related articles": "ignored",
    "full text links": "ignored",
    "substances": "ignored",
    "grants": "ignored",
}
_OVERVIEW_RE = re.compile(
    r"^(Journal|Publisher|Date|PMID|PMCID|PMC|DOI|Citations|Cited by|Times cited|Volume|Issue|"
    r"Pages|Language)\s*:?\s+(.+)$",
    re.IGNORECASE,
)
_OVERVIEW_KEYS = {"pmc": "pmcid", "cited by": "citations", "times cited": "citations"}
_PLACEHOLDER_RE = re.compile(
    r"^(?:soon will be listed here|not (?:yet )?available|no abstract available|n/?a|none|-+"
    r"|no (?:citing articles|references)(?: (?:found|available|yet|listed))?)\.?$",
    re.IGNORECASE,
)

# "... . 2016; 8(1):6162." / "... . 2024 Jan 5; 15:1344917." / "... . 2019." (no volume yet).
# Greedy head: the year follows the *last* ". " so titles may contain full stops.
# "... . 2024;" (ahead of print: volume not assigned yet) ends at the semicolon.
_YEAR_TAIL_RE = re.compile(
    r"^(?P<head>.*\S)\.\s+(?P<year>(?:1[5-9]|20)\d{2})(?:\s+[A-Z][a-z]{2}[^;.]*)?"
    r"(?:;\s*(?P<vip>[^\s].*?)|;)?\.?\s*$"
)
_VIP_RE = re.compile(r"^(?P<volume>[^():]*)(?:\((?P<issue>[^)]*)\))?(?::\s*(?P<pages>.+))?$")
# A DOI may be printed as a resolver link with no "DOI:" label.
_DOI_URL = r"https?://(?:dx\.)?doi\.org/"
_IDS_START_RE = re.compile(rf"(?:^|\s)(?:(?:PMID|PMCID|PMC|DOI)\s*:|{_DOI_URL})", re.IGNORECASE)
_PMID_RE = re.compile(r"\bPMID\s*:\s*(\S+?)\.?(?=\s|$)", re.IGNORECASE)
_PMCID_RE = re.compile(r"\bPMC(?:ID)?\s*:\s*(\S+?)\.?(?=\s|$)", re.IGNORECASE)
_DOI_RE = re.compile(rf"\bDOI\s*:\s*(\S+)|(?<!\S)({_DOI_URL}\S+)", re.IGNORECASE)
_VIEW_RE = re.compile(r"\s*\bView\s*$")

# "Last I" with particles and hyphens: "de Lima Prata K", "Itala-Remes M".
_NAME_CHARS = r"[\w'\u2019\-]"  # apostrophes straight and curly: "O'Brien", "D\u2019Souza"
_AUTHOR = rf"[^\W\d_]{_NAME_CHARS}*(?:\s+[^\W\d_]{_NAME_CHARS}*)*?\s+[A-Z]{{1,4}}(?!{_NAME_CHARS})"
_AUTHOR_LIST = rf"{_AUTHOR}(?:,\s+{_AUTHOR})*(?:,?\s+et\s+al\b\.?)?"
# References put " . " after the authors; citing-article lines put only a space.
_AUTHORS_SPACE_REST_RE = re.compile(rf"^(?P<authors>{_AUTHOR_LIST})\.?\s+(?P<rest>\S.*)$")
_AUTHORS_STOP_REST_RE = re.compile(rf"^(?P<authors>{_AUTHOR_LIST})\s*\.\s+(?P<rest>\S.*)$")
# NLM abbreviations have no full stops, but other styles do ("Proc. Natl. Acad. Sci.").
_ABBREVIATION_PART_RE = re.compile(r"^[A-Z][A-Za-z]{0,5}\.$")


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    text, decode_warnings = read_text(stream, source_name=source_name)
    lines = text.split("\n")
    if not text.strip():
        raise ParseError("empty file: no article page", SourceLocation(source_name))
    pages = _split_pages(lines)
    if not any(_looks_like_page(page_lines) for _, page_lines in pages):
        raise ParseError(
            "not an article page: no '» Articles » PMID:' header and no Overview, "
            "Abstract, Citing Articles or References section",
            SourceLocation(source_name, line=1),
        )
    for number, (first_line, page_lines) in enumerate(pages, start=1):
        location = SourceLocation(source_name, record=number, line=first_line)
        record = _parse_page(page_lines, first_line, location)
        if isinstance(record, InvalidRecord):
            yield record
            continue
        if not record.title and not record.pmid:
            yield InvalidRecord(location, "article page has neither a title nor a PMID")
            continue
        record.warnings[:0] = decode_warnings
        yield record


def _split_pages(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Pages start at header lines; text before the first header is its own page."""
    starts = [i for i, line in enumerate(lines) if _HEADER_RE.match(line)]
    if not starts or any(line.strip() for line in lines[: starts[0]]):
        starts.insert(0, 0)
    bounds = [*starts, len(lines)]
    return [(start + 1, lines[start:end]) for start, end in itertools.pairwise(bounds)]


def _looks_like_page(lines: list[str]) -> bool:
    return any(
        _HEADER_RE.match(line)
        or _heading(line)[0] in {"overview", "abstract", "citing", "references"}
        for line in lines
    )


def _heading(line: str) -> tuple[str | None, int | None]:
    """The section a heading line opens and the count it prints, if any."""
    text = line.strip().rstrip(":")
    count_match = _HEADING_COUNT_RE.search(text)
    count = None
    if count_match:
        text = text[: count_match.start()].rstrip(":").rstrip()
        count = int(count_match.group(1).replace(",", ""))
    return _SECTIONS.get(text.lower()), count


def _parse_page(
    lines: list[str], first_line: int, location: SourceLocation
) -> StudyRecord | InvalidRecord:
    record = StudyRecord(location=location)
    header_pmid = ""
    sections: dict[str, list[tuple[int, str]]] = {}
    # Section -> (heading line, the count the heading prints).
    counts: dict[str, tuple[int, int]] = {}
    preamble: list[str] = []
    current: str | None = None
    for offset, line in enumerate(lines):
        stripped = line.strip()
        header = _HEADER_RE.match(line)
        if header:
            header_pmid = header.group(1)
            continue
        section, count = _heading(stripped)
        if section:
            if section == "overview" and section in sections:
                # A page has one overview: a second is the next page, its header line lost;
                # where its title starts cannot be told from the end of this page.
                return InvalidRecord(
                    location,
                    f"second 'Overview' heading at line {first_line + offset}: two article "
                    "pages without a '» Articles » PMID:' header line between them",
                )
            current = section
            sections.setdefault(section, [])
            if count is not None:
                counts[section] = (first_line + offset, count)
            continue
        if current is None:
            if stripped:
                preamble.append(stripped)
        else:
            sections[current].append((first_line + offset, line))
    if not preamble and not any(_texts(section_lines) for section_lines in sections.values()):
        record.warnings.append("page has nothing after its header line (truncated file?)")

    record.title = _strip_final_period(clean(" ".join(preamble)))
    overview = _parse_overview(sections.get("overview", []), record)
    record.pmid = _identifier(
        normalize_pmid, overview.get("pmid") or header_pmid, "PMID", record.warnings
    )
    if header_pmid and overview.get("pmid"):
        try:
            if normalize_pmid(header_pmid) != record.pmid:
                record.warnings.append(
                    f"header PMID {header_pmid} differs from overview PMID {record.pmid}; "
                    "kept the overview's"
                )
        except InvalidIdentifier:
            pass  # the header's bad PMID is not used
    record.authors = _parse_authors(sections.get("authors", []))
    affiliations = _texts(sections.get("affiliations", []))
    if affiliations:
        # The page lists affiliations without saying which author each belongs to.
        if len(record.authors) == 1:
            record.authors[0].affiliations = affiliations
        else:
            record.warnings.append(
                f"{len(affiliations)} affiliation(s) not attributed: the page does not link "
                "them to authors"
            )
    record.abstract, record.abstract_sections = _parse_abstract(sections.get("abstract", []))
    record.cited_by = _parse_citing(sections.get("citing", []), record.warnings)
    record.references = _parse_references(sections.get("references", []), record.warnings)
    for section, works, label in (
        ("citing", record.cited_by, "citing article(s)"),
        ("references", record.references, "reference(s)"),
    ):
        if section in counts and counts[section][1] != len(works):
            line_number, count = counts[section]
            record.warnings.append(
                f"line {line_number}: the heading announces {count} {label} but {len(works)} "
                "were read (truncated file?)"
            )
    record.keywords = _split_list(sections.get("keywords", []))
    record.mesh_headings = [
        MeshHeadingRecord(descriptor=term.rstrip("*"), is_major=term.endswith("*"))
        for term in _split_list(sections.get("mesh", []))
    ]
    record.publication_types = [
        PublicationTypeRecord(name=name)
        for name in _split_list(sections.get("publication_types", []))
    ]
    return record


def _parse_overview(lines: list[tuple[int, str]], record: StudyRecord) -> dict[str, str]:
    values: dict[str, str] = {}
    for line_number, line in lines:
        stripped = clean(line)
        if not stripped:
            continue
        match = _OVERVIEW_RE.match(stripped)
        if not match:
            record.warnings.append(f"line {line_number}: unrecognised overview line {stripped!r}")
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        values[_OVERVIEW_KEYS.get(key, key)] = value

    journal = values.get("journal", "")
    publisher = values.get("publisher", "")
    if journal or publisher:
        record.journal = JournalRecord(iso_abbreviation=journal, publisher=publisher)
    if "date" in values:
        record.pub_date = _parse_page_date(values["date"], record.warnings)
    if "citations" in values:
        count = values["citations"].replace(",", "")
        if count.isdigit():
            record.citation_count = int(count)
        else:
            record.warnings.append(f"unreadable citation count {values['citations']!r}")
    record.doi = _identifier(normalize_doi, values.get("doi", ""), "DOI", record.warnings)
    record.pmcid = _identifier(normalize_pmcid, values.get("pmcid", ""), "PMCID", record.warnings)
    record.volume = values.get("volume", "")
    record.issue = values.get("issue", "")
    record.pages = values.get("pages", "")
    record.language = values.get("language", "")
    return values


_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Full names, three-letter abbreviations and "Sept".
_MONTHS = {name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS |= {name: number for number, name in enumerate(_MONTH_NAMES, start=1)} | {"sept": 9}
_DAY_MONTH_YEAR_RE = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR_RE = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_MONTH_YEAR_RE = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")
_NUMERIC_DATE_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def _parse_page_date(text: str, warnings: list[str]) -> PublicationDate:
    """'2020 Oct 21' as PubMed writes it, and the orders other page styles use.

    '21 Oct 2020', 'October 21, 2020', 'Oct 2020' are rewritten year first for
    ``parse_date``. '10/21/2020' is read only when one part exceeds 12; '03/04/2020' may be
    March or April, so only its year is kept.
    """
    raw = clean(text)
    rewritten = raw
    if match := _DAY_MONTH_YEAR_RE.match(raw):
        day, month, year = match.groups()
        if month.lower() in _MONTHS:
            rewritten = f"{year}/{_MONTHS[month.lower()]}/{day}"
    elif match := _MONTH_DAY_YEAR_RE.match(raw):
        month, day, year = match.groups()
        if month.lower() in _MONTHS:
            rewritten = f"{year}/{_MONTHS[month.lower()]}/{day}"
    elif match := _MONTH_YEAR_RE.match(raw):
        month, year = match.groups()
        if month.lower() in _MONTHS:
            rewritten = f"{year}/{_MONTHS[month.lower()]}"
    elif match := _NUMERIC_DATE_RE.match(raw):
        first, second, year = (int(part) for part in match.groups())
        if first > 12 >= second or first == second:
            rewritten = f"{year}/{second}/{first}"
        elif second > 12 >= first:
            rewritten = f"{year}/{first}/{second}"
        else:
            rewritten = str(year)
            warnings.append(f"Date: {raw!r} reads as day/month or month/day; kept the year only")
    date = parse_date(rewritten, field="Date", warnings=warnings)
    date.text = raw
    return date


def _parse_authors(lines: list[tuple[int, str]]) -> list[AuthorRecord]:
    names: list[str] = []
    for text in _texts(lines):
        names.extend(part.strip() for part in text.split(",") if part.strip())
    authors = [author_from_name(name) for name in names]
    return [author for author in authors if author is not None]


def _parse_abstract(
    lines: list[tuple[int, str]],
) -> tuple[str, list[AbstractSectionRecord]]:
    paragraphs = [p for p in _paragraphs(lines) if not _PLACEHOLDER_RE.match(p)]
    abstract = "\n\n".join(paragraphs)
    return abstract, split_abstract_sections(" ".join(paragraphs))


def _parse_citing(lines: list[tuple[int, str]], warnings: list[str]) -> list[WorkRecord]:
    """Blocks of: title line(s), citation line, 'PMID: x PMC: y. DOI: z.' line."""
    works: list[WorkRecord] = []
    pending: list[str] = []
    last_with_ids: WorkRecord | None = None
    for line_number, line in lines:
        text = clean(line)
        if not text or _PLACEHOLDER_RE.match(text):
            continue
        if _IDS_START_RE.match(text):
            if pending:
                # Ids with no citation line before them: the pending lines are the title.
                title = " ".join(pending)
                work = WorkRecord(raw_text=title, title=_strip_final_period(title))
                works.append(work)
                pending = []
                last_with_ids = work
            if last_with_ids is None or last_with_ids.pmid or last_with_ids.doi:
                warnings.append(f"line {line_number}: identifiers with no citing article")
                continue
            _apply_ids(last_with_ids, text, warnings, line_number)
            last_with_ids = None
            continue
        if pending and _YEAR_TAIL_RE.match(_bibliographic_part(text)):
            title = " ".join(pending)
            work = parse_citation_line(text, warnings=warnings, line_number=line_number)
            work.title = _strip_final_period(title)
            work.raw_text = f"{title} {text}"
            works.append(work)
            pending = []
            last_with_ids = work
            continue
        pending.append(text)
    if pending:
        warnings.append(f"citing articles: unparsed text {' '.join(pending)!r}")
    return works


def parse_citation_line(
    text: str, *, warnings: list[str] | None = None, line_number: int | None = None
) -> WorkRecord:
    """'Lu Y, Zhang Y Front Endocrinol (Lausanne). 2024; 15:1344917.' (authors, no title)."""
    warnings = warnings if warnings is not None else []
    work = WorkRecord(raw_text=text)
    bibliographic = _bibliographic_part(text)
    _apply_ids(work, text, warnings, line_number)
    match = _YEAR_TAIL_RE.match(bibliographic)
    if not match:
        warnings.append(_at(line_number, f"unparsed citation {text!r}"))
        return work
    _apply_year_tail(work, match)
    authors, rest = _split_authors(match.group("head"), space_separated=True)
    work.authors = authors
    work.journal = rest.strip().rstrip(".")
    return work


_REFERENCE_NUMBER_RE = re.compile(r"^(\d{1,4})\.(?:\s+(.*))?$")


def _parse_references(lines: list[tuple[int, str]], warnings: list[str]) -> list[WorkRecord]:
    """Numbered entries ('1.' / text) or, unnumbered, entries ending at a blank line, at the
    page's 'View' link or where a line completes a citation; wrapped lines are joined."""
    numbered_style = any(
        (match := _REFERENCE_NUMBER_RE.match(clean(line))) and match.group(1) == "1"
        for _, line in lines
    )
    entries: list[tuple[int, list[str]]] = []
    ended = True  # the last entry is complete: the next text line starts another
    last_number = 0
    for line_number, line in lines:
        text = clean(line)
        if not text:
            ended = ended or not numbered_style
            continue
        if _PLACEHOLDER_RE.match(text):
            continue
        numbered = _REFERENCE_NUMBER_RE.match(text) if numbered_style else None
        # Only a number a little past the last starts an entry (a page may skip some): a
        # wrapped line may begin with a year, "2016. PMC: ...".
        if numbered and last_number < int(numbered.group(1)) <= last_number + 20:
            last_number = int(numbered.group(1))
            entries.append((line_number, [numbered.group(2) or ""]))
            ended = False
            continue
        continues = not ended or _IDS_START_RE.match(text) or text == "View"
        if entries and (numbered_style or continues):
            entries[-1][1].append(text)
        else:
            entries.append((line_number, [text]))
        if not numbered_style:
            ended = bool(_VIEW_RE.search(text)) or _is_complete(" ".join(entries[-1][1]))
    works = []
    for line_number, parts in entries:
        text = clean(" ".join(parts))
        if text:
            works.append(parse_reference(text, warnings=warnings, line_number=line_number))
    return works


def parse_reference(
    text: str, *, warnings: list[str] | None = None, line_number: int | None = None
) -> WorkRecord:
    """'Authors . Title. Journal. Year; Vol(Issue):Pages. PMC: x. DOI: y. View'."""
    warnings = warnings if warnings is not None else []
    raw = _VIEW_RE.sub("", clean(text))
    work = WorkRecord(raw_text=raw)
    _apply_ids(work, raw, warnings, line_number)
    bibliographic = _bibliographic_part(raw)
    authors, rest = _split_authors(bibliographic)
    work.authors = authors
    match = _YEAR_TAIL_RE.match(rest)
    if not match:
        work.title = _strip_final_period(rest)
        warnings.append(_at(line_number, f"reference without a year: {raw!r}"))
        return work
    _apply_year_tail(work, match)
    work.title, work.journal = _split_title_journal(match.group("head"))
    return work


def _is_complete(text: str) -> bool:
    """Whether an unnumbered reference reads as a whole citation (it has its year tail)."""
    bibliographic = _bibliographic_part(text)
    return bibliographic != text.strip() or bool(
        bibliographic.endswith(".") and _YEAR_TAIL_RE.match(bibliographic)
    )


def _split_authors(text: str, *, space_separated: bool = False) -> tuple[str, str]:
    """Authors from the front of a citation: 'Lu Y, Zhang Y Front Immunol' -> both parts.

    ``space_separated`` allows a bare space after the last initials (citing-article lines);
    elsewhere a full stop must follow, so a title like 'Effects of ACE inhibitors' is
    not mistaken for an author 'Effects of ACE'.
    """
    match = re.match(r"^(?P<authors>[^.]*?\S)\s+\.\s+(?P<rest>.*)$", text)
    if match:
        return match.group("authors"), match.group("rest")
    pattern = _AUTHORS_SPACE_REST_RE if space_separated else _AUTHORS_STOP_REST_RE
    match = pattern.match(text)
    if match:
        return match.group("authors"), match.group("rest")
    return "", text


def _split_title_journal(text: str) -> tuple[str, str]:
    """'A title. With parts? Orthop Rev (Pavia)' -> (title, journal).

    The journal is what follows the title's final sentence stop; full-stopped abbreviation
    parts ('Proc. Natl.') before it are pulled into the journal.
    """
    segments = re.split(r"(?<=[.?!])\s+", text.strip())
    if len(segments) == 1:
        return _strip_final_period(segments[0]), ""
    start = len(segments) - 1
    while start > 1 and _ABBREVIATION_PART_RE.match(segments[start - 1]):
        start -= 1
    title = " ".join(segments[:start])
    return _strip_final_period(title), " ".join(segments[start:]).rstrip(".")


def _apply_year_tail(work: WorkRecord, match: re.Match[str]) -> None:
    work.year = int(match.group("year"))
    vip = (match.group("vip") or "").strip().rstrip(".")
    parts = _VIP_RE.match(vip) if vip else None
    if parts:
        work.volume = (parts.group("volume") or "").strip()
        work.issue = (parts.group("issue") or "").strip()
        work.pages = (parts.group("pages") or "").strip()
    elif vip:
        work.pages = vip


def _apply_ids(work: WorkRecord, text: str, warnings: list[str], line_number: int | None) -> None:
    for pattern, normalise, attribute, label in (
        (_PMID_RE, normalize_pmid, "pmid", "PMID"),
        (_PMCID_RE, normalize_pmcid, "pmcid", "PMCID"),
        (_DOI_RE, normalize_doi, "doi", "DOI"),
    ):
        match = pattern.search(text)
        if match:
            value = next(group for group in match.groups() if group)
            value = _identifier(normalise, value, label, warnings, line_number)
            setattr(work, attribute, value)


def _identifier(
    normalise: Callable[[str], str],
    value: str,
    label: str,
    warnings: list[str],
    line_number: int | None = None,
) -> str:
    try:
        return normalise(value)
    except InvalidIdentifier as exc:
        warnings.append(_at(line_number, f"{label} dropped: {exc}"))
        return ""


def _bibliographic_part(text: str) -> str:
    """The citation without its trailing 'PMID: ... DOI: ...' identifiers."""
    match = _IDS_START_RE.search(text)
    return text[: match.start()].strip() if match else text.strip()


def _paragraphs(lines: list[tuple[int, str]]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for _, line in [*lines, (0, "")]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(clean(" ".join(current)))
            current = []
    return paragraphs


def _texts(lines: list[tuple[int, str]]) -> list[str]:
    texts = [clean(line) for _, line in lines]
    return [text for text in texts if text and not _PLACEHOLDER_RE.match(text)]


def _split_list(lines: list[tuple[int, str]]) -> list[str]:
    items: list[str] = []
    for text in _texts(lines):
        items.extend(part.strip() for part in re.split(r"[;,]", text) if part.strip())
    return items


def _strip_final_period(text: str) -> str:
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text


def _at(line_number: int | None, message: str) -> str:
    return f"line {line_number}: {message}" if line_number else message
