"""manage.py export_records: studies to a citation file, streamed (flat memory)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from evidence import identifiers
from evidence.exporters import EXPORT_FORMATS, iter_study_records, stream_export
from evidence.importers.records import StudyRecord
from evidence.models import ReviewStatus, Study


class Command(BaseCommand):
    help = (
        "Export studies as EviDB JSON (the default, re-importable with import_records), "
        "RIS, BibTeX, MEDLINE (nbib), CSL-JSON or CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format", default="evidb-json", choices=list(EXPORT_FORMATS), dest="fmt"
        )
        parser.add_argument(
            "--output", "-o", default="-", help="File to write, or '-' for standard output."
        )
        parser.add_argument(
            "--pmid", default="", help="Only these PubMed IDs, comma-separated: 1,2,3."
        )
        parser.add_argument(
            "--review-status", choices=ReviewStatus.values, help="Only studies in this status."
        )
        parser.add_argument(
            "--chunk-size", type=int, default=500, help="Studies read per database round."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        queryset = studies_to_export(pmids=options["pmid"], review_status=options["review_status"])
        counter = _Counter(iter_study_records(queryset, chunk_size=options["chunk_size"]))
        chunks = stream_export(options["fmt"], counter)
        output: str = options["output"]
        if output == "-":
            try:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                self.stdout.flush()
            except BrokenPipeError:
                # The reader went away (`export_records | head`): stop quietly, as
                # Unix tools do, and keep Python from failing again when it flushes.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
            self.stderr.write(f"Exported {_studies(counter.count)}.")
            return
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"--output {output}: directory {path.parent} does not exist")
        _write_atomically(path, chunks)
        self.stderr.write(f"Exported {_studies(counter.count)} to {path}.")


def studies_to_export(*, pmids: str = "", review_status: str | None = None) -> QuerySet[Study]:
    queryset = Study.objects.all()
    if pmids:
        values = []
        for raw in pmids.split(","):
            if raw.strip():
                try:
                    values.append(int(identifiers.normalize_pmid(raw)))
                except identifiers.InvalidIdentifier as exc:
                    raise CommandError(f"--pmid: {exc}") from None
        queryset = queryset.filter(pmid__in=values)
    if review_status:
        queryset = queryset.filter(review_status=review_status)
    return queryset


def _write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Written beside the target and renamed at the end: an export that fails halfway
    never leaves a truncated file under the requested name."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            for chunk in chunks:
                stream.write(chunk)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _studies(count: int) -> str:
    return f"{count} study" if count == 1 else f"{count} studies"


class _Counter:
    """Passes records through, counting them for the closing message."""

    def __init__(self, records: Iterable[StudyRecord]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self) -> Iterator[StudyRecord]:
        for record in self._records:
            self.count += 1
            yield record
