"""RIS, as EndNote, Zotero, Mendeley and the review tools (Rayyan, Covidence) read it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from evidence.exporters.common import (
    abstract_text,
    inverted_name,
    is_book,
    is_book_chapter,
    one_line,
    publication_year,
    pubmed_url,
    split_pages,
    subject_terms,
)
from evidence.importers.records import StudyRecord


def _line(tag: str, value: str | int | None) -> str:
    if value is None:
        return ""
    text = one_line(str(value))
    return f"{tag}  - {text}\n" if text else ""


def _reference_type(record: StudyRecord) -> str:
    if is_book_chapter(record):
        return "CHAP"
    if is_book(record):
        return "BOOK"
    return "JOUR"


def _ris_date(record: StudyRecord) -> str:
    """RIS DA is 'YYYY/MM/DD/other', empty parts kept as slashes."""
    date = record.pub_date
    if date.year is None:
        return ""
    month = f"{date.month:02d}" if date.month else ""
    day = f"{date.day:02d}" if date.day else ""
    return f"{date.year:04d}/{month}/{day}/"


def format_record(record: StudyRecord) -> str:
    journal = record.journal
    start_page, end_page = split_pages(record.pages)
    parts = [
        _line("TY", _reference_type(record)),
        _line("TI", record.title),
        *(_line("AU", inverted_name(author)) for author in record.authors),
        _line("AB", abstract_text(record)),
    ]
    if journal is not None:
        # T2 is what EndNote and Zotero read as the journal, JO what older readers do.
        parts += [
            _line("T2", journal.title),
            _line("JO", journal.title),
            _line("JA", journal.iso_abbreviation),
        ]
    parts += [
        _line("PY", publication_year(record.pub_date)),
        _line("DA", _ris_date(record)),
        _line("VL", record.volume),
        _line("IS", record.issue),
        _line("SP", start_page),
        _line("EP", end_page),
        _line("DO", record.doi),
        _line("AN", record.pmid),
    ]
    if journal is not None:
        parts.append(_line("SN", journal.issn or journal.eissn))
    parts += [_line("KW", term) for term in subject_terms(record)]
    parts.append(_line("LA", record.language))
    if journal is not None:
        parts.append(_line("PB", journal.publisher))
    parts += [_line("UR", pubmed_url(record)), "ER  - \n\n"]
    return "".join(parts)


def write_ris(records: Iterable[StudyRecord]) -> Iterator[str]:
    for record in records:
        yield format_record(record)
