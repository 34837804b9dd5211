"""The push-to-pull bridge that streams EviDB JSON from the importer's dump_records."""

from __future__ import annotations

import io
import json
import threading

import pytest

from evidence.exporters.evidb_json import stream_writer, write_evidb_json
from tests.evidence.exporters.records import bare_record, full_record


def fake_dump(records, out):
    """Shaped like a real dump: a header, one line per record, a footer."""
    out.write("[\n")
    for index, record in enumerate(records):
        out.write(("," if index else "") + json.dumps({"title": record.title}) + "\n")
    out.write("]\n")


def test_output_is_what_the_dump_writes():
    records = [full_record(), bare_record()]
    buffer = io.StringIO()
    fake_dump(records, buffer)
    assert "".join(stream_writer(fake_dump, records)) == buffer.getvalue()


def test_records_are_pulled_one_at_a_time():
    pulled = []

    def records():
        for index in range(100):
            pulled.append(index)
            yield bare_record()

    chunks = stream_writer(fake_dump, records())
    text = ""
    while "untitled" not in text:
        text += next(chunks)
    # The dump asked for one record (and perhaps the next): nothing is read ahead.
    assert len(pulled) <= 2
    chunks.close()


def test_records_are_read_in_the_callers_thread():
    # Database access must stay on the thread that opened the transaction.
    threads = set()

    def records():
        for _ in range(3):
            threads.add(threading.get_ident())
            yield bare_record()

    "".join(stream_writer(fake_dump, records()))
    assert threads == {threading.get_ident()}


def test_error_in_the_dump_is_raised_to_the_caller():
    def broken_dump(records, out):
        for _ in records:
            raise RuntimeError("cannot serialise")

    with pytest.raises(RuntimeError, match="cannot serialise"):
        "".join(stream_writer(broken_dump, [bare_record()]))


def test_error_in_the_records_stops_the_dump():
    def records():
        yield bare_record()
        raise LookupError("database went away")

    before = threading.active_count()
    with pytest.raises(LookupError):
        "".join(stream_writer(fake_dump, records()))
    assert threading.active_count() == before


def test_closing_early_stops_the_helper_thread():
    before = threading.active_count()
    chunks = stream_writer(fake_dump, (bare_record() for _ in range(1000)))
    next(chunks)
    chunks.close()
    assert threading.active_count() == before


def test_real_evidb_json_round_trips_through_its_parser():
    evidb_json = pytest.importorskip(
        "evidence.importers.evidb_json", reason="evidence.importers.evidb_json not written yet"
    )
    records = [full_record(), bare_record()]
    text = "".join(write_evidb_json(records))
    buffer = io.StringIO()
    evidb_json.dump_records(records, buffer)
    assert text == buffer.getvalue()
    parsed = list(evidb_json.parse(io.BytesIO(text.encode()), source_name="export.json"))
    assert [item.title for item in parsed] == [record.title for record in records]
    assert parsed[0].appraisal == records[0].appraisal
    assert parsed[0].authors == records[0].authors
