"""The import's parser in a child process gives what the parser thread gives.

``EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 0`` forces the process path for any file of
known size; each comparison imports the same bytes both ways, undoing the first import,
and compares every row written (ids as ranks, timestamps left out) and the report.
"""

from __future__ import annotations

import gzip
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models, transaction

from evidence.importers import pipeline
from evidence.importers.records import ParseError, SourceLocation
from evidence.models import ImportRun, ImportStatus, Study
from evidence.services import study_import
from evidence.services.importing import REPORT_COUNTS
from evidence.services.writer import BatchWriter
from tests.conftest import REPO_ROOT
from tests.evidence.services.conftest import medline, medline_record

pytestmark = pytest.mark.django_db(transaction=False)

NEVER = -1  # the thread path, whatever the size

REPORT_FIELDS = ("status", "format", *REPORT_COUNTS, "messages")


def rows() -> dict[str, list[tuple]]:
    """Every row of the evidence app, primary keys replaced by their rank in the table.

    Both paths hand the writer the same records in the same order, so the same rows
    get the same ranks; PostgreSQL's sequences do not roll back, so raw ids differ.
    """
    tables = [
        model
        for model in apps.get_app_config("evidence").get_models(include_auto_created=True)
        if model is not ImportRun
    ]
    ranks = {
        model: {
            pk: rank
            for rank, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True))
        }
        for model in tables
    }
    dump = {}
    for model in tables:
        columns = []
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField | models.DateField) and (
                field.auto_now or field.auto_now_add
            ):
                continue
            columns.append(field)
        table = []
        for values in model.objects.order_by("pk").values_list(*(f.attname for f in columns)):
            row = []
            for field, value in zip(columns, values, strict=True):
                if field.primary_key and field.model in ranks:
                    value = ranks[field.model][value]
                elif field.is_relation and field.related_model in ranks and value is not None:
                    value = ranks[field.related_model][value]
                elif isinstance(field, models.DateTimeField):
                    continue  # history timestamps
                elif field.is_relation:
                    continue  # the importing user, the run that made a history row
                row.append(value)
            table.append(tuple(row))
        dump[model._meta.label] = table
    return dump


def report(run: ImportRun) -> dict[str, object]:
    return {name: getattr(run, name) for name in REPORT_FIELDS}


@pytest.fixture
def spawned(monkeypatch) -> list[bool]:
    """One entry per parser process started."""
    started: list[bool] = []
    enter = pipeline._ParserProcess.__enter__

    def counting_enter(self):
        started.append(True)
        return enter(self)

    monkeypatch.setattr(pipeline._ParserProcess, "__enter__", counting_enter)
    return started


def import_both_ways(
    settings, spawned: list[bool], data: bytes, name: str, **options
) -> tuple[dict, dict]:
    """(report, rows) of the thread path, undone, then of the process path; asserts equal."""
    results = []
    for threshold, processes in ((NEVER, []), (0, [True])):
        settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = threshold
        spawned.clear()
        with transaction.atomic():
            run = study_import(stream=io.BytesIO(data), source_name=name, **options)
            results.append((report(run), rows()))
            transaction.set_rollback(True)
        assert spawned == processes
    (thread_report, thread_rows), (process_report, process_rows) = results
    assert process_report == thread_report
    assert process_rows == thread_rows
    return process_report, process_rows


def children(of: int | None = None) -> set[int]:
    """Processes whose parent is this one (zombies included: they are not reaped)."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc to list child processes")
    mine = os.getpid() if of is None else of
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == mine:
            found.add(int(entry))
    return found


@pytest.mark.parametrize(
    "name",
    [
        "asreview_pubmed.xml",
        "zotero_pubmed_book.xml",
        "biopython_pubmed_result2.txt",
        "asreview_embase.ris",
        "zotero_bibtex_a.bib",
    ],
)
def test_process_writes_the_same_rows_as_the_thread(name, settings, sample_path, spawned):
    data = Path(sample_path(name)).read_bytes()
    result, written = import_both_ways(settings, spawned, data, name, batch_size=3)
    assert result["status"] == ImportStatus.SUCCEEDED, result["messages"]
    assert result["created"] > 0
    assert len(written["evidence.Study"]) == result["created"]


def test_invalid_records_roll_back_or_are_skipped_the_same_way(settings, spawned):
    data = medline(
        medline_record("111", "A valid study"),
        "PMID- notanumber\nXX  - nothing usable here",
        medline_record("333", "Another valid study"),
    )
    failed, _ = import_both_ways(settings, spawned, data, "mixed.nbib")
    assert failed["status"] == ImportStatus.FAILED and failed["created"] == 0
    skipped, written = import_both_ways(settings, spawned, data, "mixed.nbib", skip_invalid=True)
    assert skipped["status"] == ImportStatus.SUCCEEDED and skipped["failed"] >= 1
    assert len(written["evidence.Study"]) == 2
    valid = medline(medline_record("111", "A valid study"))
    dry, written = import_both_ways(settings, spawned, valid, "valid.nbib", dry_run=True)
    assert (dry["status"], dry["created"]) == (ImportStatus.DRY_RUN, 1)
    assert written["evidence.Study"] == []


def _cut_in_sixth_article(data: bytes) -> bytes:
    start = data.index(b"<PubmedArticle>")
    for _ in range(5):
        start = data.index(b"<PubmedArticle>", start + 1)
    return data[: start + 300] + b"\n</PubmedArticleSet>\n"


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_parse_error_mid_file_names_its_place_after_the_records_before_it(
    skip_invalid, settings, sample_path, spawned
):
    data = _cut_in_sixth_article(Path(sample_path("asreview_pubmed.xml")).read_bytes())
    result, written = import_both_ways(
        settings, spawned, data, "cut.xml", batch_size=2, skip_invalid=skip_invalid
    )
    errors = [m for m in result["messages"] if m["level"] == "error"]
    assert errors[0]["location"].startswith("cut.xml, record 6, line ")
    assert "malformed XML" in errors[0]["message"]
    assert result["records_seen"] == 5
    if skip_invalid:
        assert result["status"] == ImportStatus.SUCCEEDED
        assert len(written["evidence.Study"]) == 5
    else:
        assert result["status"] == ImportStatus.FAILED
        assert written["evidence.Study"] == []


def test_gzip_input_is_undone_in_the_child(settings, sample_path, spawned):
    data = gzip.compress(Path(sample_path("asreview_pubmed.xml")).read_bytes())
    result, written = import_both_ways(settings, spawned, data, "pubmed.xml.gz")
    assert (result["status"], result["format"]) == (ImportStatus.SUCCEEDED, "pubmed-xml")
    assert len(written["evidence.Study"]) == 10


def test_gzip_bomb_cap_holds_in_the_child(settings, spawned):
    settings.EVIDB_MAX_DECOMPRESSED_BYTES = 10_000
    data = gzip.compress(medline(*(medline_record(str(i), f"Study {i}") for i in range(1, 400))))
    result, _ = import_both_ways(settings, spawned, data, "big.nbib.gz")
    assert result["status"] == ImportStatus.FAILED
    assert any("gzip bomb" in m["message"] for m in result["messages"])


def test_undetectable_format_is_reported_before_anything_is_read(settings, spawned):
    result, _ = import_both_ways(settings, spawned, b"just some words\n" * 10, "notes")
    assert result["status"] == ImportStatus.FAILED
    assert "cannot tell the format" in result["messages"][0]["message"]
    assert result["messages"][-1]["message"] == "nothing was imported"


def test_child_is_gone_after_an_import(settings, sample_path, spawned):
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 0
    before = children()
    data = Path(sample_path("asreview_pubmed.xml")).read_bytes()
    run = study_import(stream=io.BytesIO(data), source_name="p.xml")
    assert run.status == ImportStatus.SUCCEEDED
    assert spawned == [True]
    assert children() == before


@pytest.mark.parametrize("failure", [RuntimeError("the database went away"), KeyboardInterrupt()])
def test_writer_failure_stops_the_child_and_undoes_the_import(
    failure, settings, monkeypatch, sample_path, spawned
):
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 0
    before = children()

    def write(self, batch, derived=None):
        if batch:
            raise failure

    monkeypatch.setattr(BatchWriter, "write", write)
    data = Path(sample_path("asreview_pubmed.xml")).read_bytes()
    with pytest.raises(type(failure)):
        study_import(stream=io.BytesIO(data), source_name="p.xml", batch_size=2)
    assert spawned == [True]
    assert children() == before
    assert Study.objects.count() == 0
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert run.messages[-1]["message"] == "import interrupted: nothing was imported"


def test_an_exception_in_the_child_is_raised_in_the_parent(settings, monkeypatch, spawned):
    # The child cannot load the settings it inherits: its ModuleNotFoundError, with the
    # child's traceback as its cause, is what the import raises.
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 0
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.no_such_settings")
    before = children()
    with pytest.raises(ModuleNotFoundError, match="no_such_settings") as raised:
        study_import(stream=io.BytesIO(medline(medline_record("1", "T"))), source_name="x.nbib")
    assert "in the parser process" in str(raised.value.__cause__)
    assert children() == before
    assert spawned == [True]
    assert ImportRun.objects.get().status == ImportStatus.FAILED


def test_failures_cross_the_pipe_as_the_exceptions_they_were():
    class Local(Exception):  # cannot be pickled by reference
        pass

    def through_pipe(exc: BaseException) -> BaseException:
        reader, writer = multiprocessing.Pipe(duplex=False)
        with reader, writer:
            assert pipeline._Sender(writer)(("failed", exc))
            kind, rebuilt = pipeline._decode(reader.recv_bytes())
        assert kind == "failed"
        return rebuilt

    parse_error = through_pipe(ParseError("bad tag", SourceLocation("a.xml", 3, 40)))
    assert (parse_error.reason, parse_error.location) == ("bad tag", SourceLocation("a.xml", 3, 40))
    memory = through_pipe(MemoryError())
    assert isinstance(memory, MemoryError)
    local = through_pipe(Local("odd"))
    assert type(local) is RuntimeError and "Local: odd" in str(local)


class FailingStream(io.RawIOBase):
    """Reads like the file, then fails as a disk would."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        self._data = io.BytesIO(data)
        self._fail_at = fail_at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._data.tell() >= self._fail_at:
            raise OSError(5, "disk read error")
        return self._data.readinto(memoryview(buffer)[:4096])


def test_a_failing_stream_raises_its_error_after_the_same_records(sample_path):
    # Ten copies of the sample's articles: failing halfway, past the head that format
    # detection reads, so that some records come before the error.
    data = Path(sample_path("asreview_pubmed.xml")).read_bytes()
    head, rest = data.split(b"<PubmedArticleSet>", 1)
    articles, tail = rest.rsplit(b"</PubmedArticleSet>", 1)
    data = head + b"<PubmedArticleSet>" + articles * 10 + b"</PubmedArticleSet>" + tail
    received = {}
    for in_process in (False, True):
        items = received[in_process] = []
        with (
            pytest.raises(OSError, match="disk read error"),
            pipeline.parse_ahead(
                FailingStream(data, len(data) // 2),
                source_name="f.xml",
                batch_size=7,
                in_process=in_process,
            ) as (_, chunks),
        ):
            for chunk in chunks:
                items.extend(item.record.pmid for item in chunk)
    assert 0 < len(received[True]) < 100
    assert received[True] == received[False]


def test_small_or_unsized_inputs_keep_the_thread(settings, tmp_path):
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 100
    from evidence.services.importing import _parse_in_process

    assert not _parse_in_process(io.BytesIO(b"x" * 99))
    assert _parse_in_process(io.BytesIO(b"x" * 100))
    offset = io.BytesIO(b"x" * 150)
    offset.seek(60)
    assert pipeline.stream_size(offset) == 90 and offset.tell() == 60
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(b"x" * 1000))
    with gzip.open(path) as on_disk:  # its file's size, compressed
        assert pipeline.stream_size(on_disk) == path.stat().st_size
    in_memory = gzip.GzipFile(fileobj=io.BytesIO(path.read_bytes()))
    assert pipeline.stream_size(in_memory) is None and in_memory.tell() == 0
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = -1  # never
    assert not _parse_in_process(io.BytesIO(b"x" * 10**6))
    read_end, write_end = os.pipe()
    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = 0
    with os.fdopen(read_end, "rb") as pipe, os.fdopen(write_end, "wb"):
        assert pipeline.stream_size(pipe) is None
        assert not _parse_in_process(pipe)


PARENT_SCRIPT = """
import os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
import django
django.setup()
from evidence.importers.pipeline import parse_ahead
with open(sys.argv[1], "rb") as stream, parse_ahead(
    stream, source_name="big.nbib", batch_size=10, in_process=True
) as (fmt, chunks):
    next(chunks)
    print("reading", flush=True)
    time.sleep(120)
"""


def test_child_exits_when_its_parent_dies(tmp_path):
    """Killed without a chance to clean up, the parent's pipes close and the child ends."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc")
    # Enough records that the child, far ahead of a parent that reads one chunk, blocks.
    path = tmp_path / "big.nbib"
    path.write_bytes(medline(*(medline_record(str(i), f"Study {i}") for i in range(1, 20_000))))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline() == "reading\n"
        (child,) = children(of=parent.pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                break  # gone
            if state == "Z":
                break  # exited; reaping it is its new parent's business
            time.sleep(0.1)
        else:
            pytest.fail(f"parser process {child} still runs after its parent died")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()


def test_the_child_runs_two_batches_ahead_of_a_busy_writer(sample_path):
    """While the writer is busy with a batch, the child parses on into the parent's
    queue, up to two batches of chunks, instead of waiting on a full pipe after one."""
    data = Path(sample_path("asreview_pubmed.xml")).read_bytes()
    head, rest = data.split(b"<PubmedArticleSet>", 1)
    articles, tail = rest.rsplit(b"</PubmedArticleSet>", 1)
    data = head + b"<PubmedArticleSet>" + articles * 40 + b"</PubmedArticleSet>" + tail
    options = {
        "source_name": "ahead.xml",
        "format": "auto",
        "max_decompressed_bytes": None,
        "batch_size": 1,  # a chunk per record: 400 chunks, far more than fit ahead
        "ask_known": False,
    }
    with pipeline._ParserProcess(io.BytesIO(data), options) as producer:
        assert producer.receive()[0] == "format"
        # The writer takes nothing for a while: the child fills the queue.
        deadline = time.monotonic() + 30
        while producer._receiver._queue.qsize() < pipeline._AHEAD:
            assert time.monotonic() < deadline, "the child stopped short of two batches"
            time.sleep(0.05)
        received = 0
        while (message := producer.receive())[0] == "chunk":
            received += len(message[1])
        assert message[0] == "done"
    assert received == 400
