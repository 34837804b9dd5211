"""python manage.py import_records PATH... — import citation files through the service."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.importers.registry import FORMATS
from evidence.models import ImportRun, ImportStatus
from evidence.services import study_import


class _Progress:
    """A one-line progress display with rate, shown only on a terminal."""

    def __init__(self, name: str, total_bytes: int, stream) -> None:
        self.name = name
        self.total_bytes = total_bytes
        self.stream = stream
        self.started = time.monotonic()
        self.enabled = stream.isatty()

    def __call__(self, records: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.stream.write(f"\r{self.name}: {records:,} records, {records / elapsed:,.0f}/s ")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = (
        "Import citation files (PubMed XML incl. .gz, MEDLINE/.nbib, RIS, BibTeX, EviDB "
        "JSON, EviDB seed texts). Each file is one transaction: it goes in whole or not "
        "at all, unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--format",
            default="auto",
            choices=["auto", *FORMATS],
            help="Format of the files (default: detected from content).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse and match, report what would change, save nothing.",
        )
        parser.add_argument(
            "--on-duplicate",
            choices=["update", "skip"],
            default="update",
            help="What to do with a record matching a study already held.",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid records of a file and list the invalid ones.",
        )

    def handle(self, *args, paths: list[Path], **options) -> None:
        failed_files = []
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            progress = _Progress(path.name, path.stat().st_size, sys.stderr)
            with path.open("rb") as stream:
                run = study_import(
                    stream=stream,
                    source_name=str(path),
                    format=options["format"],
                    dry_run=options["dry_run"],
                    on_duplicate=options["on_duplicate"],
                    skip_invalid=options["skip_invalid"],
                    progress=progress,
                )
            progress.done()
            self._print_report(run)
            if run.status == ImportStatus.FAILED:
                failed_files.append(str(path))
        if failed_files:
            raise CommandError(f"import failed for: {', '.join(failed_files)}")

    def _print_report(self, run: ImportRun) -> None:
        style = self.style.SUCCESS if run.status != ImportStatus.FAILED else self.style.ERROR
        self.stdout.write(
            style(
                f"{run.source_name} [{run.format}] {run.get_status_display().lower()}: "
                f"{run.records_seen} records; {run.created} created, {run.updated} updated, "
                f"{run.unchanged} unchanged, {run.merged} merged, {run.skipped} skipped, "
                f"{run.failed} failed, {run.deleted} deleted (import run {run.pk})"
            )
        )
        for message in run.messages:
            line = f"  {message['level']}: {message['location']}: {message['message']}"
            self.stdout.write(self.style.ERROR(line) if message["level"] == "error" else line)
