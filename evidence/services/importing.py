"""The import service: the one place that writes imported records.

``study_import`` reads a citation file through the parsers, matches each record to the
studies already held (PMID, then DOI, then PMCID, then normalised title with year),
creates, updates or leaves them, links the citation graph in both directions, and
records what it did in an ``ImportRun``.

Transactions: the whole file is one transaction, so a failed or interrupted import
leaves the database as it was. Invalid records are found before anything is written
for them; without ``skip_invalid`` one invalid record rolls the file back, with it the
valid records go in and the invalid ones are listed.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from evidence.importers.pipeline import (
    Checked,
    Item,
    parse_ahead,
    process_available,
    stream_size,
)
from evidence.importers.records import (
    DeletedCitations,
    InvalidRecord,
    KnownQuery,
    KnownRecord,
    ParseError,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import UNSTORABLE_RE
from evidence.models import ImportRun, ImportStatus
from evidence.services.values import Derived
from evidence.services.writer import BatchWriter

logger = logging.getLogger(__name__)

ON_DUPLICATE_CHOICES = ("update", "skip")
BATCH_SIZE = 1000
MAX_MESSAGES = 1000
# Allocations between two young-generation collections while an import runs (Python's
# default: 700). See _spaced_collections.
IMPORT_GC_THRESHOLD = 100_000


class _RollBack(Exception):
    """Raised inside the import transaction to undo it (dry run or invalid records)."""


# The counts an ImportRun keeps of its report, in the order the API shows them.
REPORT_COUNTS = (
    "records_seen",
    "created",
    "updated",
    "unchanged",
    "merged",
    "skipped",
    "failed",
    "deleted",
)


@dataclass
class ImportReport:
    """Counts and messages of one run; messages are capped, counts are exact."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0
    records_seen: int = 0
    messages: list[dict[str, str]] = field(default_factory=list)
    dropped_messages: int = 0
    # Stored messages that are not errors: what gives way when the cap is reached.
    _notes: int = 0

    def add(self, level: str, location: SourceLocation | str, message: str) -> None:
        entry = {
            "level": level,
            "location": _storable(str(location)),
            "message": _storable(message),
        }
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(entry)
            self._notes += level != "error"
            return
        self.dropped_messages += 1
        if level == "error" and self._notes:
            # A full report keeps its errors (which records failed, and that nothing was
            # imported): the latest warning or note makes room.
            for index in range(len(self.messages) - 1, -1, -1):
                if self.messages[index]["level"] != "error":
                    del self.messages[index]
                    break
            self._notes -= 1
            self.messages.append(entry)

    def error(self, location: SourceLocation | str, message: str) -> None:
        self.failed += 1
        self.add("error", location, message)


def _storable(text: str) -> str:
    """``text`` with each unstorable character written as its escape, as repr() would:
    messages quote damaged input, and the run's JSON column would refuse it (the run
    itself would then fail to save)."""
    return UNSTORABLE_RE.sub(lambda match: ascii(match.group(0))[1:-1], text)


def study_import(
    *,
    stream: BinaryIO,
    source_name: str,
    format: str = "auto",
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    on_duplicate: str = "update",
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportRun:
    """Import one citation file and return its saved ``ImportRun``.

    Never raises for bad input: a malformed file or record is reported in the run's
    messages with its place (file, record, line) and the run's status says
    ``failed``. Raises ``ValueError`` only for a programming error in the arguments.
    """
    if on_duplicate not in ON_DUPLICATE_CHOICES:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE_CHOICES}")
    run = ImportRun.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        source_name=source_name[:500],
        format=format,
        options={"dry_run": dry_run, "on_duplicate": on_duplicate, "skip_invalid": skip_invalid},
    )
    report = ImportReport()
    status = ImportStatus.FAILED
    try:
        try:
            with _spaced_collections(), transaction.atomic():
                if connection.vendor == "postgresql":
                    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: left so,
                    # every check of a large import queues up and runs at COMMIT after
                    # parsing ends. Checked per statement, they overlap with parsing.
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        # Every batch lookup has an index and stays an index lookup,
                        # linear in the batch, however large the table. The planner's
                        # statistics lag the tables this transaction grows, and
                        # between two ANALYZEs it chose seq scans of whole tables
                        # (citations: 260,000 rows, twice a batch, to find none).
                        cursor.execute("SET LOCAL enable_seqscan = off")
                with parse_ahead(
                    stream,
                    source_name=source_name,
                    format=format,
                    max_decompressed_bytes=settings.EVIDB_MAX_DECOMPRESSED_BYTES,
                    batch_size=batch_size,
                    in_process=_parse_in_process(stream),
                    ask_known=True,
                ) as (detected, chunks):
                    run.format = detected
                    writer = BatchWriter(
                        run=run, report=report, on_duplicate=on_duplicate, source_name=source_name
                    )
                    _consume(chunks, writer, report, progress, batch_size)
                if report.failed and not skip_invalid:
                    raise _RollBack(
                        f"{report.failed} invalid record(s): nothing was imported "
                        "(use skip-invalid to import the valid ones)"
                    )
                if dry_run:
                    raise _RollBack("dry run: nothing was saved")
            status = ImportStatus.SUCCEEDED
        except ParseError as exc:
            report.error(exc.location, exc.reason)
            report.add("error", source_name, "nothing was imported")
        except _RollBack as exc:
            status = ImportStatus.DRY_RUN if dry_run and not report.failed else ImportStatus.FAILED
            report.add("info" if status == ImportStatus.DRY_RUN else "error", source_name, str(exc))
            if status == ImportStatus.FAILED:
                _discard_counts(report)
    except BaseException:
        # Ctrl-C or a crash: the transaction is already rolled back; say so and re-raise.
        run.status = ImportStatus.FAILED
        report.add("error", source_name, "import interrupted: nothing was imported")
        _save_run(run, report)
        raise
    run.status = status
    _save_run(run, report)
    logger.info(
        "import %s (%s): %s created, %s updated, %s unchanged, %s failed",
        source_name,
        run.format,
        report.created,
        report.updated,
        report.unchanged,
        report.failed,
    )
    return run


_collections_lock = threading.Lock()
_imports_running = 0
_thresholds_before: tuple[int, ...] = ()


@contextmanager
def _spaced_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while imports run.

    A batch allocates some 100,000 objects that all stay alive until it is written, so
    a collection every 700 allocations finds nothing to free, and the collections of
    the older generations walk the records parsed ahead as well: 0.28 ms of CPU per
    record on 10,000 records, 14 % of the client's. Records hold no reference cycles;
    collections still run, a hundred times less often. The thresholds are the
    process's, so the first of concurrent imports raises them and the last restores
    them.
    """
    global _imports_running, _thresholds_before
    with _collections_lock:
        if _imports_running == 0:
            _thresholds_before = gc.get_threshold()
            first, *older = _thresholds_before
            gc.set_threshold(max(first, IMPORT_GC_THRESHOLD), *older)
        _imports_running += 1
    try:
        yield
    finally:
        with _collections_lock:
            _imports_running -= 1
            if _imports_running == 0:
                gc.set_threshold(*_thresholds_before)


def _discard_counts(report: ImportReport) -> None:
    """After a rollback nothing was created or updated; failures stay reported."""
    report.created = report.updated = report.unchanged = report.merged = 0
    report.skipped = report.deleted = 0


def _parse_in_process(stream: BinaryIO) -> bool:
    """Parse in a child process when the file is big enough to repay its start-up.

    Starting one (a Python interpreter loading Django) costs about half a second, and
    pickling the records to the writer about a tenth of the parsing; it pays back when
    parsing in a thread would hold the GIL against the writer longer than the database
    keeps the writer waiting. A stream of unknown size (a pipe) is parsed in a thread.
    """
    minimum = settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES
    if minimum < 0:
        return False
    size = stream_size(stream)
    return size is not None and size >= minimum and process_available()


def _consume(
    chunks: Iterator[list[Item]],
    writer: BatchWriter,
    report: ImportReport,
    progress: Callable[[int], None] | None,
    batch_size: int,
) -> None:
    """Write the parser's chunks in file order.

    The parser runs ahead in a thread or a process (``parse_ahead``), so it works while
    this thread waits for the database: on two cores the database server's share of
    an import overlaps with parsing instead of adding to it.
    """
    batch: list[StudyRecord] = []
    derived: list[Derived] = []
    # The first batches are small and double up to batch_size: the database starts
    # working while the parser is still on the first thousand records. Sizes depend
    # on the file alone, never on timing, so the same file is always written alike.
    target = max(1, batch_size // 8)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except ParseError as exc:
            # Records before the failure point can still go in with skip-invalid;
            # without it the failure rolls the file back like any invalid record.
            report.error(exc.location, exc.reason)
            break
        for item in chunk:
            if isinstance(item, Checked):
                report.records_seen += 1
                if item.errors:
                    for error in item.errors:
                        report.error(item.record.location, error)
                    continue
                batch.append(item.record)
                derived.append(item.derived)
            elif isinstance(item, InvalidRecord):
                report.records_seen += 1
                report.error(item.location, item.reason)
            elif isinstance(item, KnownRecord):
                report.records_seen += 1
                report.unchanged += 1
            elif isinstance(item, KnownQuery):
                # Answered without writing the batch first: the answer leaves out
                # what the batch's records could change, and the parser goes on
                # while the batch fills (writing it here would stall the parser
                # until it was written, then the writer until the next batch filled).
                item.answer(writer.known_digests(item.pairs, zip(batch, derived, strict=True)))
            elif isinstance(item, DeletedCitations):
                writer.write(batch, derived)
                batch, derived = [], []
                writer.delete(item)
        if len(batch) >= target:
            writer.write(batch, derived)
            batch, derived = [], []
            target = min(target * 2, batch_size)
        if progress:
            progress(report.records_seen)
    writer.write(batch, derived)
    if progress:
        progress(report.records_seen)


def _save_run(run: ImportRun, report: ImportReport) -> None:
    if report.dropped_messages:
        report.messages.append(
            {
                "level": "info",
                "location": run.source_name,
                "message": f"{report.dropped_messages} more messages not stored",
            }
        )
    for name in REPORT_COUNTS:
        setattr(run, name, getattr(report, name))
    run.messages = report.messages
    run.finished_at = timezone.now()
    run.save()
