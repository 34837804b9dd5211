"""Small helpers the citation writers share: names, dates, pages, types, white space."""

from __future__ import annotations

import re

from evidence.importers.records import AuthorRecord, PublicationDate, StudyRecord

MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

_PAGE_RANGE_RE = re.compile(r"^\s*([A-Za-z]?)(\d+)\s*[-\u2013\u2014]+\s*([A-Za-z]?)(\d+)\s*$")
_LEADING_YEAR_RE = re.compile(r"^\s*(\d{4})\b")

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def one_line(value: str) -> str:
    """Line-based formats (RIS, CSV cells people read) cannot carry a newline in a value."""
    # A RIS export calls this for every tag of every record, and most values are one
    # line already: printable text holds no white space but " " (a test checks every
    # code point), so two scans in C settle it without splitting a whole abstract.
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    return " ".join(value.split())


def initials_of(author: AuthorRecord) -> str:
    if author.initials:
        return author.initials
    parts = re.split(r"[\s\-]+", author.fore_name)
    return "".join(part[0].upper() for part in parts if part)


def inverted_name(author: AuthorRecord) -> str:
    """'Last, Fore' (RIS AU, MEDLINE FAU, BibTeX); a group author is its name."""
    if author.collective_name and not author.last_name:
        return author.collective_name
    fore = author.fore_name or initials_of(author)
    return f"{author.last_name}, {fore}" if fore else author.last_name


def short_name(author: AuthorRecord) -> str:
    """'Last FI' as PubMed's AU tag and summary lines write it."""
    if author.collective_name and not author.last_name:
        return author.collective_name
    initials = initials_of(author)
    return f"{author.last_name} {initials}" if initials else author.last_name


def publication_year(date: PublicationDate) -> int | None:
    """The year, also when only a MedlineDate such as '1998 Dec-1999 Jan' was kept."""
    if date.year is not None:
        return date.year
    match = _LEADING_YEAR_RE.match(date.text)
    return int(match.group(1)) if match else None


def split_pages(pages: str) -> tuple[str, str]:
    """'123-30' -> ('123', '130'): MEDLINE abbreviates the end page, RIS/BibTeX do not."""
    pages = pages.strip()
    if not pages:
        return "", ""
    match = _PAGE_RANGE_RE.match(pages)
    if not match:
        # Article numbers ("e0123456") and odd ranges ("S1-S8, S10") stay as given.
        return pages, ""
    start_prefix, start, end_prefix, end = match.groups()
    if not end_prefix and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return start_prefix + start, (end_prefix or start_prefix) + end


def full_pages(pages: str, *, separator: str = "-") -> str:
    start, end = split_pages(pages)
    return f"{start}{separator}{end}" if end else start


def is_book(record: StudyRecord) -> bool:
    names = {ptype.name.casefold() for ptype in record.publication_types}
    return "book" in names or "monograph" in names or "book chapter" in names


def is_book_chapter(record: StudyRecord) -> bool:
    return any(ptype.name.casefold() == "book chapter" for ptype in record.publication_types)


def pubmed_url(record: StudyRecord) -> str:
    return PUBMED_URL.format(pmid=record.pmid) if record.pmid else ""


def abstract_text(record: StudyRecord) -> str:
    """The abstract as one text; sections joined with their labels when only those exist."""
    if record.abstract:
        return record.abstract
    parts = []
    for section in record.abstract_sections:
        label = section.label or section.category
        parts.append(f"{label}: {section.text}" if label else section.text)
    return " ".join(part for part in parts if part)


def mesh_terms(record: StudyRecord) -> list[str]:
    return [heading.descriptor for heading in record.mesh_headings if heading.descriptor]


def subject_terms(record: StudyRecord) -> list[str]:
    """Author keywords then MeSH descriptors, once each (case-insensitively)."""
    seen: set[str] = set()
    terms = []
    for term in [*record.keywords, *mesh_terms(record)]:
        key = term.casefold()
        if term and key not in seen:
            seen.add(key)
            terms.append(term)
    return terms
