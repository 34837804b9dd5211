"""EviDB JSON, written by the importer's own ``dump_records`` so there is one format.

``dump_records(records, out)`` pushes text into a file; an HTTP response and the export
command pull chunks from a generator. ``stream_writer`` bridges the two: the dump runs
in a helper thread that only formats (it never touches the database, so the records can
come from a queryset of the calling thread's connection and transaction), one record at
a time, and the text it writes is handed back to the caller as it is produced.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from evidence.importers.records import StudyRecord

# Text is handed over once this much has been written (or at each record's end).
_CHUNK_CHARS = 64 * 1024

_END = object()


class _Cancelled(Exception):
    """Raised inside the helper thread when the consumer stops reading."""


class _QueueWriter:
    """The ``out`` given to the dump: collects writes, hands over full chunks."""

    def __init__(self, output: queue.Queue, cancelled: threading.Event) -> None:
        self._output = output
        self._cancelled = cancelled
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        if self._cancelled.is_set():
            raise _Cancelled
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _CHUNK_CHARS:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._output.put(("text", "".join(self._parts)))
            self._parts.clear()
            self._size = 0


def stream_writer(
    dump: Callable[[Iterable[StudyRecord], TextIO], None], records: Iterable[StudyRecord]
) -> Iterator[str]:
    """Run ``dump(records, out)`` and yield what it writes, pulling one record at a time.

    The caller's thread iterates ``records`` (database access stays where it started)
    and waits for the dump to ask for the next record before fetching it, so at most one
    record and one chunk of text are in flight: memory stays flat for any export size.
    """
    requests: queue.Queue = queue.Queue(maxsize=1)
    events: queue.Queue = queue.Queue()
    cancelled = threading.Event()
    writer = _QueueWriter(events, cancelled)

    def pull() -> Iterator[StudyRecord]:
        while True:
            writer.flush()
            events.put(("need", None))
            item = requests.get()
            if item is _END:
                return
            if cancelled.is_set():
                raise _Cancelled
            yield item

    def run() -> None:
        try:
            dump(pull(), writer)  # type: ignore[arg-type]
            writer.flush()
            events.put(("done", None))
        except _Cancelled:
            events.put(("done", None))
        except BaseException as exc:  # handed to the caller's thread and raised there
            events.put(("error", exc))

    thread = threading.Thread(target=run, name="evidb-json-export", daemon=True)
    thread.start()
    source = iter(records)
    finished = False
    try:
        while True:
            kind, payload = events.get()
            if kind == "text":
                yield payload
            elif kind == "need":
                try:
                    requests.put(next(source))
                except StopIteration:
                    requests.put(_END)
            elif kind == "error":
                finished = True
                raise payload
            else:
                finished = True
                return
    finally:
        if not finished:
            # The consumer stopped early (client gone) or the source raised: stop the dump.
            cancelled.set()
            with contextlib.suppress(queue.Full):
                requests.put_nowait(_END)
        thread.join(timeout=5)


def write_evidb_json(records: Iterable[StudyRecord]) -> Iterator[str]:
    # Imported here: the module belongs to the importers and loads lazily with them.
    from evidence.importers.evidb_json import dump_records

    return stream_writer(dump_records, records)
