"""Exports of studies: citation formats for reference managers and EviDB's own JSON.

Every writer is a pure generator: StudyRecords in, chunks of text out, no ORM. The ORM
side is ``iter_study_records``, which reads a Study queryset chunk by chunk. The API's
``?format=`` and ``manage.py export_records`` both combine the two, so memory stays flat
whatever the number of studies::

    stream_export("ris", iter_study_records(Study.objects.filter(...)))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from evidence.exporters.bibtex import write_bibtex
from evidence.exporters.csl_json import write_csl_json
from evidence.exporters.evidb_json import write_evidb_json
from evidence.exporters.medline import write_medline
from evidence.exporters.ris import write_ris
from evidence.exporters.study_records import (
    ALL_PARTS,
    APPRAISAL,
    AUTHOR_DETAILS,
    MESH_QUALIFIERS,
    StudyRecordStream,
    iter_study_records,
)
from evidence.exporters.table import write_csv
from evidence.importers.records import StudyRecord

__all__ = [
    "CHUNK_CHARS",
    "EXPORT_FORMATS",
    "ExportFormat",
    "StudyRecordStream",
    "UnknownExportFormat",
    "iter_study_records",
    "stream_export",
]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    write: Callable[[Iterable[StudyRecord]], Iterator[str]]


EXPORT_FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt
    for fmt in (
        ExportFormat("ris", "application/x-research-info-systems", "ris", write_ris),
        ExportFormat("bibtex", "application/x-bibtex", "bib", write_bibtex),
        ExportFormat("nbib", "application/nbib", "nbib", write_medline),
        ExportFormat("csl-json", "application/vnd.citationstyles.csl+json", "json", write_csl_json),
        ExportFormat("csv", "text/csv", "csv", write_csv),
        ExportFormat("evidb-json", "application/json", "json", write_evidb_json),
    )
}


# What each format prints beyond the bibliographic core: an export from
# iter_study_records reads only that (a RIS export never reads the citation graph,
# affiliations, MeSH qualifiers or the sections of an abstract it prints whole). A test
# holds every format to the text it writes from complete records.
_PARTS_PRINTED: dict[str, frozenset[str]] = {
    "ris": frozenset(),
    "bibtex": frozenset(),
    "nbib": frozenset({AUTHOR_DETAILS, MESH_QUALIFIERS}),
    "csl-json": frozenset(),
    "csv": frozenset({APPRAISAL}),
    "evidb-json": ALL_PARTS,
}


class UnknownExportFormat(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"unknown export format {name!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )


def stream_export(format_name: str, records: Iterable[StudyRecord]) -> Iterator[str]:
    """The text of ``records`` in ``format_name``, in chunks of about ``CHUNK_CHARS``.

    Raises ``UnknownExportFormat`` (a ValueError) at once, before anything is read.
    """
    try:
        fmt = EXPORT_FORMATS[format_name]
    except KeyError:
        raise UnknownExportFormat(format_name) from None
    if isinstance(records, StudyRecordStream):
        records.only_parts(_PARTS_PRINTED.get(format_name, ALL_PARTS))
    return _coalesced(fmt.write(records))


# Writers yield a record at a time (~3 KB of RIS); a response sending each as its own
# chunk spends more on per-chunk overhead (a socket write and a chunked-encoding header
# each) than on the text. Chunks of this size keep memory flat all the same.
CHUNK_CHARS = 64 * 1024


def _coalesced(chunks: Iterator[str]) -> Iterator[str]:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= CHUNK_CHARS:
            yield "".join(parts)
            parts.clear()
            size = 0
    if parts:
        yield "".join(parts)
