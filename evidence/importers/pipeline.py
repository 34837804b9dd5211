"""The import's parsing stage: parse, validate and derive ahead of the writer, in order.

    with parse_ahead(stream, source_name="a.xml", batch_size=1000, in_process=True) as (
        fmt,
        chunks,
    ):
        for chunk in chunks:  # lists of Checked, InvalidRecord, DeletedCitations
            ...

``produce`` turns a stream into messages: the detected format, then chunks of at most
``batch_size`` items in file order (``Checked(record, errors, derived)`` for a record,
``derived`` being ``values.derive`` of a valid one, which the writer would otherwise
compute on its own thread), then "done", or the failure that ended the stream after
the chunks before it. It runs in one of two places, and the consumer reads the same
messages from either:

- a thread (``in_process=False``): no start-up cost, but parsing (lxml and Python),
  validation and derivation hold the GIL against the writer's Python, which caps a
  large import;
- a child process (``in_process=True``): it parses on the other core. A feeder thread
  sends the stream's raw bytes through a pipe in pieces, then an empty piece for the
  end; the child reads them as its file (gzip is undone there), and an input stopping
  without that end (the parent died, or reading the caller's stream failed) is an
  error there, not a shorter file. The child sends pickled messages back through a
  second pipe, which a thread of the parent reads into a queue of two batches of
  chunks, as the thread's queue holds. Each side blocks when the other falls behind,
  so memory stays at a few chunks. The child never touches the database; it loads
  Django's app registry only because ``evidence.services.values`` imports the models'
  vocabularies and key rules.

The child is a fresh interpreter (``subprocess``: fork and exec at once, as
multiprocessing's ``spawn`` does; never a bare ``fork``, since the parent may hold
threads and database connections). It is not a multiprocessing ``spawn`` process
because that re-runs the parent's ``__main__`` module in the child, which for a script
without a ``__name__`` guard would be the script's own database work, and because it
leaves a resource-tracker process beside every parent that ever started one.

Leaving the ``with`` block stops the producer whatever happened (end of file, an error
in the writer, Ctrl-C): the thread is told to stop, the process is terminated and
reaped. A child whose parent dies sees its pipes close and exits.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import gc
import gzip
import io
import json
import operator
import os
import pickle
import queue
import signal
import stat
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, BinaryIO

from evidence.importers import records
from evidence.importers.records import (
    DeletedCitations,
    InvalidRecord,
    KnownQuery,
    KnownRecord,
    ParsedItem,
    ParseError,
    StudyRecord,
)
from evidence.importers.registry import parse_source

if TYPE_CHECKING:
    from evidence.services.values import Derived

__all__ = ["Checked", "Item", "checked_chunks", "parse_ahead", "produce", "stream_size"]

# Chunks per batch of the consumer, and chunks the parser (thread or process) may have
# ready before the writer takes them: two batches.
_CHUNKS_PER_BATCH = 4
_AHEAD = 2 * _CHUNKS_PER_BATCH
# The feeder copies the stream in pieces this big; the pipes are enlarged to match
# (Linux's default limit for an unprivileged process), so each piece is one write.
_FEED_SIZE = 1024 * 1024
_READ_SIZE = 64 * 1024
# How long a child has to exit by itself after its last message, then to die when
# terminated or killed.
_JOIN_SECONDS = 5.0


@dataclass(slots=True)
class Checked:
    """A parsed record with what was found for it off the writer's thread: its
    validation errors, or when it has none its ``values.derive`` result."""

    record: StudyRecord
    errors: list[str]
    derived: Derived | None = None


Item = Checked | InvalidRecord | DeletedCitations | KnownQuery | KnownRecord
# ("format", name) | ("chunk", [Item, ...]) | ("done", None) | ("failed", exception)
Message = tuple[str, Any]


# --- the shared producer ---------------------------------------------------------------


def checked_chunks(items: Iterable[ParsedItem], batch_size: int) -> Iterator[list[Item]]:
    """Checked items in lists of at most ``batch_size``, in order.

    When parsing or checking fails, the items before the failure are yielded first,
    then the exception is raised.
    """
    iterator = _checked(items)
    while True:
        chunk, failure = _take(iterator, batch_size)
        if chunk:
            yield chunk
        if failure is not None:
            raise failure
        if len(chunk) < batch_size and _query_ending(chunk) is None:
            return


def _query_ending(chunk: list[Item]) -> KnownQuery | None:
    """The query a chunk ends with: the parser waits until the consumer answers it."""
    last = chunk[-1] if chunk else None
    return last if isinstance(last, KnownQuery) and not last.probe else None


def _queries(chunk: list[Item]) -> list[KnownQuery]:
    """Every query in a chunk: probes anywhere, and the one it may end with."""
    return [item for item in chunk if isinstance(item, KnownQuery)]


def _checked(items: Iterable[ParsedItem]) -> Iterator[Item]:
    # Imported here: values imports the models, so it needs Django's app registry,
    # which a child process loads before it parses.
    from evidence.services.values import derive, validate

    for item in items:
        if isinstance(item, StudyRecord):
            errors = validate(item)
            # A record that came with its source digest was read because the database
            # does not hold those bytes (unchanged ones come as KnownRecord): it is new
            # or changed, and the writer will need everything. Other formats' re-imports
            # are mostly unchanged records: only what matching needs, and the writer
            # completes the rest for the new and changed ones.
            derived = None if errors else derive(item, full=bool(item.source_digest))
            item = Checked(item, errors, derived)
        yield item


def _take(iterator: Iterator[Item], size: int) -> tuple[list[Item], BaseException | None]:
    chunk: list[Item] = []
    try:
        for item in iterator:
            chunk.append(item)
            # A query goes out at once: the parser waits for its answer. A probe
            # waits for the chunk: the parser reads on meanwhile.
            if len(chunk) >= size or (isinstance(item, KnownQuery) and not item.probe):
                break
    except BaseException as exc:  # reported after the items read before it
        return chunk, exc
    return chunk, None


def produce(
    stream: BinaryIO,
    *,
    source_name: str,
    format: str,
    max_decompressed_bytes: int | None,
    batch_size: int,
    emit: Callable[[Message], bool],
    ask_known: bool = False,
) -> None:
    """Parse and check ``stream``, handing each message to ``emit`` in file order.

    Any failure, in ``parse_source`` (the format cannot be detected) or later, is the
    last message. ``emit`` returns False when the consumer has stopped listening. With
    ``ask_known`` the parser may end a chunk with a ``KnownQuery`` and wait for the
    consumer to answer it.
    """
    try:
        detected, items = parse_source(
            stream,
            source_name=source_name,
            format=format,
            max_decompressed_bytes=max_decompressed_bytes,
            ask_known=ask_known,
        )
        if not emit(("format", detected)):
            return
        for chunk in checked_chunks(items, batch_size):
            if not emit(("chunk", chunk)):
                return
    except BaseException as exc:
        emit(("failed", exc))
        return
    emit(("done", None))


def _read_messages(receive: Callable[[], Message]) -> tuple[str, Iterator[list[Item]]]:
    """(format, chunks) from a producer's messages; its failure is raised in their place.

    A failure before the format (``parse_source`` itself) is raised here, later ones by
    the chunk iterator after the chunks before them, as if the parser ran inline.
    """
    kind, payload = receive()
    if kind == "failed":
        raise payload
    detected: str = payload

    def chunks() -> Iterator[list[Item]]:
        while True:
            kind, payload = receive()
            if kind == "chunk":
                yield payload
            elif kind == "done":
                return
            else:
                raise payload

    return detected, chunks()


@contextmanager
def parse_ahead(
    stream: BinaryIO,
    *,
    source_name: str,
    format: str = "auto",
    max_decompressed_bytes: int | None = None,
    batch_size: int,
    in_process: bool = False,
    ask_known: bool = False,
) -> Iterator[tuple[str, Iterator[list[Item]]]]:
    """(format, chunks of checked items) for ``stream``, parsed in a thread or a process.

    Chunks hold at most a quarter of ``batch_size`` items, so that a consumer writing
    smaller batches first gets them early; the producer runs up to two batches ahead.

    Entering raises ParseError when ``parse_source`` does (unknown or undetectable
    format); the chunk iterator raises the ParseError or other exception that ended the
    stream, after the chunks before it. The caller's stream is not closed.

    With ``ask_known`` the parser may end a chunk with a ``KnownQuery``, which the
    consumer must answer (after writing what came before it) before more chunks come;
    a process gets the answer through a pipe of its own.
    """
    options = {
        "source_name": source_name,
        "format": format,
        "max_decompressed_bytes": max_decompressed_bytes,
        "batch_size": max(1, batch_size // _CHUNKS_PER_BATCH),
        "ask_known": ask_known,
    }
    producer = _ParserProcess(stream, options) if in_process else _ParserThread(stream, options)
    with producer:
        yield _read_messages(producer.receive)


# --- size: when the process pays ------------------------------------------------------------


def stream_size(stream: BinaryIO) -> int | None:
    """The size of what ``stream`` reads from, when it can tell without reading; else None.

    A file on disk (also behind a wrapper such as an uploaded temporary file, or a
    GzipFile, whose file is measured compressed) gives its size; a stream in memory the
    bytes left after its position; a pipe, or a decompressor over memory (which would
    seek by decompressing), nothing.
    """
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        pass  # no file descriptor: in memory, or a wrapper
    else:
        return status.st_size if stat.S_ISREG(status.st_mode) else None
    if isinstance(stream, gzip.GzipFile):
        return None
    try:
        if stream.seekable():
            position = stream.tell()
            end = stream.seek(0, os.SEEK_END)
            stream.seek(position)
            return max(end - position, 0)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def process_available() -> bool:
    """Whether a parser process can start here: a POSIX system (the child's pipe is
    passed as a file descriptor), an interpreter to run, and a settings module in the
    environment, which the child inherits to load the app registry."""
    return os.name == "posix" and bool(sys.executable) and bool(_settings_module())


def _settings_module() -> str:
    # Django's own source of it; ``settings.SETTINGS_MODULE`` reads None while
    # ``override_settings`` is active.
    from django.conf import ENVIRONMENT_VARIABLE

    return os.environ.get(ENVIRONMENT_VARIABLE, "")


# --- the thread -----------------------------------------------------------------------------


class _ParserThread:
    def __init__(self, stream: BinaryIO, options: dict[str, Any]) -> None:
        self._handover: queue.Queue[Message] = queue.Queue(maxsize=_AHEAD)
        self._stop = threading.Event()
        self._query: KnownQuery | None = None
        self._thread = threading.Thread(
            target=produce,
            args=(stream,),
            kwargs={**options, "emit": self._put},
            daemon=True,
            name="evidb-import-parser",
        )

    def _put(self, message: Message) -> bool:
        kind, payload = message
        if kind == "chunk" and (query := _query_ending(payload)) is not None:
            self._query = query
        while not self._stop.is_set():
            try:
                self._handover.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def receive(self) -> Message:
        return self._handover.get()

    def __enter__(self) -> _ParserThread:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._query is not None:
            self._query.answer(set())  # a parser waiting on an answer that never came
        self._thread.join(timeout=_JOIN_SECONDS)


# --- the process: parent side ---------------------------------------------------------------


class _RemoteTraceback(Exception):
    """The child's traceback, attached as the cause of an exception it raised."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\nin the parser process:\n{self.text}"


class _ParserProcess:
    def __init__(self, stream: BinaryIO, options: dict[str, Any]) -> None:
        self._stream = stream
        self._options = options
        self._process: subprocess.Popen | None = None
        self._results: Connection | None = None
        self._feeder: _Feeder | None = None
        self._answers: Connection | None = None
        self._receiver: _Receiver | None = None
        self._finished = False

    def __enter__(self) -> _ParserProcess:
        source_reader, source_writer = os.pipe()
        results_reader, results_writer = os.pipe()
        answers_reader, answers_writer = os.pipe()
        for fd in (source_writer, results_writer):
            _enlarge_pipe(fd)
        config = {
            "path": [entry for entry in sys.path if isinstance(entry, str)],
            "source": source_reader,
            "results": results_writer,
            "answers": answers_reader,
            "options": self._options,
        }
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_BOOTSTRAP, json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # messages go through their own pipe
                pass_fds=(source_reader, results_writer, answers_reader),
            )
        except BaseException:
            os.close(source_writer)
            os.close(results_reader)
            os.close(answers_writer)
            raise
        finally:
            # The child holds its own copies: with ours closed, its death reads as end
            # of file here, and its input ends when the feeder closes the writing end.
            os.close(source_reader)
            os.close(results_writer)
            os.close(answers_reader)
        self._results = Connection(results_reader, writable=False)
        self._answers = Connection(answers_writer, readable=False)
        try:
            self._receiver = _Receiver(self._results)
            self._receiver.start()
            self._feeder = _Feeder(self._stream, Connection(source_writer, readable=False))
            self._feeder.start()
        except BaseException:
            if self._feeder is None:
                os.close(source_writer)
            self.__exit__()
            raise
        return self

    def receive(self) -> Message:
        assert self._receiver is not None and self._process is not None
        data = self._receiver.take()
        if data is None:
            self._raise_feeder_error()  # the child died of it
            raise RuntimeError(
                f"the parser process of {self._options['source_name']} ended without "
                f"finishing (exit code {self._wait(_JOIN_SECONDS)})"
            )
        message = _decode(data)
        if message[0] == "chunk":
            for query in _queries(message[1]):
                query.relay_to(self._answer)
        if message[0] in ("done", "failed"):
            self._finished = True
        if message[0] == "failed":
            # The child's input stopped because reading the caller's stream failed: that
            # error is the one to report, as when the thread reads the stream. (After
            # "done" the parser did not need the bytes the feeder failed to read.)
            self._raise_feeder_error()
        return message

    def _answer(self, digests: set[str]) -> None:
        assert self._answers is not None
        # A broken pipe: the child has exited, after its last chunk (which may hold a
        # probe it does not wait for) or because it died, which receive() reports.
        with contextlib.suppress(BrokenPipeError):
            self._answers.send_bytes(pickle.dumps(digests, protocol=pickle.HIGHEST_PROTOCOL))

    def _raise_feeder_error(self) -> None:
        if self._feeder is not None and self._feeder.error is not None:
            self._feeder.join(timeout=_JOIN_SECONDS)
            raise self._feeder.error

    def _wait(self, timeout: float) -> int | None:
        assert self._process is not None
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def __exit__(self, *exc_info: object) -> None:
        process = self._process
        if process is not None:
            if self._finished:
                self._wait(_JOIN_SECONDS)  # it exits by itself after its last message
            for stop in (process.terminate, process.kill):
                if process.poll() is not None:
                    break
                stop()
                self._wait(_JOIN_SECONDS)
        if self._receiver is not None:
            # With the child gone its end of the pipe is closed: the receiver reads the
            # end of file, or is waiting for room in its queue and sees the stop.
            self._receiver.stop()
            self._receiver.join(timeout=_JOIN_SECONDS)
        if self._results is not None:
            self._results.close()
        if self._answers is not None:
            self._answers.close()
        if self._feeder is not None:
            # With the child gone its pipe is broken, so the feeder stops writing.
            self._feeder.stop()
            self._feeder.join(timeout=_JOIN_SECONDS)


def _decode(data: bytes) -> Message:
    """A message from the child, with its failure rebuilt as the exception to raise."""
    message = _unpickle(data)
    if message[0] == "parse-error":
        return ("failed", ParseError(message[1], message[2]))
    if message[0] == "failed":
        exc = message[1]
        exc.__cause__ = _RemoteTraceback(message[2])
        return ("failed", exc)
    return message


def _unpickle(data: bytes) -> Any:
    """``pickle.loads`` with the cyclic garbage collector paused.

    A chunk is some 100,000 new objects, all kept: the collections their allocation
    triggers, full ones over the whole heap among them, cost about four times the
    unpickling itself, on the writer's thread. The records hold no cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if enabled:
            gc.enable()


class _Receiver(threading.Thread):
    """Reads the child's messages, still pickled, into a queue of ``_AHEAD`` of them.

    The pipe alone (1 MB) held the child about one chunk ahead of the writer, so that
    it waited while a batch was written and the writer waited while it parsed the
    next one. Unpickling stays with the consumer, in order.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(daemon=True, name="evidb-import-receiver")
        self._connection = connection
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_AHEAD)
        self._stopped = threading.Event()

    def take(self) -> bytes | None:
        """The next message's bytes; None once the child's pipe has closed."""
        return self._queue.get()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                data: bytes | None = self._connection.recv_bytes()
            except (EOFError, OSError):
                data = None  # the child has exited (or the pipe was closed on us)
            while not self._stopped.is_set():
                try:
                    self._queue.put(data, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if data is None:
                return


class _Feeder(threading.Thread):
    """Sends the caller's stream, raw, to the child in pieces, then the empty end piece."""

    def __init__(self, stream: BinaryIO, connection: Connection) -> None:
        super().__init__(daemon=True, name="evidb-import-feeder")
        self._stream = stream
        self._connection = connection
        self._stopped = threading.Event()
        self.error: BaseException | None = None

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        try:
            while not self._stopped.is_set():
                data = self._stream.read(_FEED_SIZE)
                self._connection.send_bytes(data)
                if not data:
                    break
        except BrokenPipeError:
            pass  # the child stopped reading: it finished, failed or was stopped
        except BaseException as exc:
            self.error = exc
        finally:
            self._connection.close()


def _enlarge_pipe(fd: int) -> None:
    """Fewer, larger writes: each wakes a thread that must take the GIL back first."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _FEED_SIZE)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over the per-user pipe budget: the default size works


# --- the process: child side ----------------------------------------------------------------


# Run by ``python -c`` with the configuration as its argument; the parent's import path
# comes first, so that the child imports the same code.
_CHILD_BOOTSTRAP = (
    "import json, sys; config = json.loads(sys.argv[1]); sys.path[:] = config['path']; "
    "from evidence.importers.pipeline import _child_main; _child_main(config)"
)


def _child_main(config: dict[str, Any]) -> None:
    """The parser process: the file in from ``config["source"]``, messages out to
    ``config["results"]``."""
    # Ctrl-C reaches the whole process group; the parent decides, and stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emit = _Sender(Connection(config["results"], readable=False))
    # As the import service does in its own process while it runs: the records hold
    # no cycles, and collecting every 700 allocations only walks live records.
    gc.set_threshold(100_000, *gc.get_threshold()[1:])
    try:
        import django  # its settings module is the parent's, from the environment

        django.setup(set_prefix=False)
        _register_record_reducers()
    except BaseException as exc:
        emit(("failed", exc))
        return
    answers = Connection(config["answers"], writable=False)

    def receive_answer() -> set[str]:
        try:
            return pickle.loads(answers.recv_bytes())
        except EOFError:
            return set()  # the parent stopped listening; this process ends soon

    def emit_answerable(message: Message) -> bool:
        kind, payload = message
        if kind == "chunk":
            # Answers come back in the order of the queries, one query out at a time.
            for query in _queries(payload):
                query.fetch_from(receive_answer, answers.poll)
        return emit(message)

    source = _InputPipe(Connection(config["source"], writable=False))
    with io.BufferedReader(source, buffer_size=_READ_SIZE) as stream:
        produce(stream, **config["options"], emit=emit_answerable)


class _InputPipe(io.RawIOBase):
    """The feeder's pieces as a file; a pipe closed before the empty end piece is an error."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._piece = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._piece:
            if self._ended:
                return 0
            try:
                data = self._connection.recv_bytes()
            except EOFError:
                raise OSError("the importing process stopped sending the file") from None
            self._ended = not data
            self._piece = memoryview(data)
        count = min(len(buffer), len(self._piece))
        buffer[:count] = self._piece[:count]
        self._piece = self._piece[count:]
        return count

    def close(self) -> None:
        self._connection.close()
        super().close()


class _Sender:
    """Pickles messages into the results pipe; False once the parent stopped reading."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def __call__(self, message: Message) -> bool:
        kind, payload = message
        if kind == "failed":
            data = _pickled_failure(payload)
        else:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._connection.send_bytes(data)
        except OSError:
            return False  # the parent is gone, or stopped listening
        return True


def _pickled_failure(exc: BaseException) -> bytes:
    # ParseError's constructor arguments are not its args: send what rebuilds it.
    if isinstance(exc, ParseError):
        return pickle.dumps(("parse-error", exc.reason, exc.location))
    text = "".join(traceback.format_exception(exc))
    try:
        data = pickle.dumps(("failed", exc, text))
        pickle.loads(data)  # some exceptions pickle but cannot be rebuilt
    except Exception:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        data = pickle.dumps(("failed", RuntimeError(f"{name}: {exc}"), text))
    return data


def _register_record_reducers() -> None:
    """Pickle the records as constructor calls, which is about twice as fast both ways.

    Slotted dataclasses otherwise go through ``copyreg``'s generic path: a state dict
    for each object, rebuilt attribute by attribute, and the parent unpickles on the
    writer's thread.
    """
    from evidence.services.values import Derived

    classes = [Checked, Derived] + [
        value
        for value in vars(records).values()
        # A query carries only its pairs across (its own __reduce__).
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value is not KnownQuery
    ]
    for cls in classes:
        copyreg.pickle(cls, _constructor_reducer(cls))


def _constructor_reducer(cls: type) -> Callable[[Any], tuple]:
    names = [field.name for field in dataclasses.fields(cls)]
    if len(names) == 1:
        (name,) = names
        return lambda obj: (cls, (getattr(obj, name),))
    values = operator.attrgetter(*names)  # one C call for all the fields
    return lambda obj: (cls, values(obj))
