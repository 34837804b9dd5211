"""CSL-JSON, the citation format of Zotero, Pandoc and citeproc processors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from evidence.exporters.common import (
    abstract_text,
    full_pages,
    is_book,
    is_book_chapter,
    publication_year,
    pubmed_url,
    subject_terms,
)
from evidence.importers.records import StudyRecord


def _csl_type(record: StudyRecord) -> str:
    if is_book_chapter(record):
        return "chapter"
    if is_book(record):
        return "book"
    return "article-journal"


def _issued(record: StudyRecord) -> dict[str, Any] | None:
    date = record.pub_date
    year = publication_year(date)
    if date.year is not None:
        parts = [date.year]
        if date.month:
            parts.append(date.month)
            if date.day:
                parts.append(date.day)
        return {"date-parts": [parts]}
    if date.text:
        # A MedlineDate ('1998 Dec-1999 Jan') has no date-parts form; CSL keeps it raw.
        return {"raw": date.text, "date-parts": [[year]]} if year else {"raw": date.text}
    return None


def csl_item(record: StudyRecord, *, index: int) -> dict[str, Any]:
    """One CSL item; empty values are left out, as CSL processors expect."""
    authors: list[dict[str, str]] = []
    for author in record.authors:
        if author.collective_name and not author.last_name:
            authors.append({"literal": author.collective_name})
        else:
            name = {"family": author.last_name}
            if author.fore_name:
                name["given"] = author.fore_name
            elif author.initials:
                name["given"] = author.initials
            authors.append(name)
    journal = record.journal
    item: dict[str, Any] = {
        "id": f"pmid:{record.pmid}" if record.pmid else record.doi or f"item{index}",
        "type": _csl_type(record),
        "title": record.title,
        "author": authors,
        "issued": _issued(record),
        "container-title": journal.title if journal else "",
        "container-title-short": journal.iso_abbreviation if journal else "",
        "ISSN": (journal.issn or journal.eissn) if journal else "",
        "publisher": journal.publisher if journal else "",
        "volume": record.volume,
        "issue": record.issue,
        "page": full_pages(record.pages),
        "DOI": record.doi,
        "PMID": record.pmid,
        "PMCID": record.pmcid,
        "URL": pubmed_url(record),
        "language": record.language,
        "abstract": abstract_text(record),
        # CSL's keyword is one string; commas separate the terms.
        "keyword": ", ".join(subject_terms(record)),
    }
    return {name: value for name, value in item.items() if value}


def write_csl_json(records: Iterable[StudyRecord]) -> Iterator[str]:
    """A JSON array streamed item by item: '[', items joined by ',', ']'."""
    yield "["
    for index, record in enumerate(records, start=1):
        prefix = "\n" if index == 1 else ",\n"
        yield prefix + json.dumps(csl_item(record, index=index), ensure_ascii=False)
    yield "\n]\n"
