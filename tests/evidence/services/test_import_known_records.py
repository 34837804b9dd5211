"""Unchanged PubMed articles are recognised from their bytes and not read again.

The PubMed XML parser digests each article's element; on import it asks the writer
which (PMID, digest) pairs the database already holds (``KnownQuery``) and hands those
back as ``KnownRecord`` without reading them, in a parser thread or process alike.
These tests hold the shortcut to the result of reading every record: same report,
same rows.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.db import transaction

from evidence.importers import pipeline, pubmed_xml, registry
from evidence.importers.records import KnownQuery, KnownRecord, StudyRecord
from evidence.models import ImportStatus, Study
from evidence.services import study_import
from tests.evidence.services.test_import_parse_process import (  # noqa: F401 (fixture)
    import_both_ways,
    spawned,
)
from tests.evidence.services.test_import_parse_process import report as report_of
from tests.evidence.services.test_import_parse_process import rows as rows_of

SAMPLE = "asreview_pubmed.xml"


@pytest.fixture
def sample(sample_path) -> bytes:
    return Path(sample_path(SAMPLE)).read_bytes()


def articles(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(head, the PubmedArticle elements, tail) of a PubmedArticleSet document."""
    parts = re.split(rb"(<PubmedArticle>.*?</PubmedArticle>)", data, flags=re.S)
    found = [part for part in parts if part.startswith(b"<PubmedArticle>")]
    head = data[: data.index(found[0])]
    tail = data[data.index(found[-1]) + len(found[-1]) :]
    return head, found, tail


def document(head: bytes, items: list[bytes], tail: bytes) -> bytes:
    return head + b"\n".join(items) + tail


def drive(data: bytes, answer) -> tuple[list, list[KnownQuery]]:
    """Parse with ``ask_known``, answering each query with ``answer(pairs)``."""
    items, queries = [], []
    for item in pubmed_xml.parse(io.BytesIO(data), source_name=SAMPLE, ask_known=True):
        if isinstance(item, KnownQuery):
            queries.append(item)
            item.answer(answer(item.pairs))
        else:
            items.append(item)
    return items, queries


# --- the parser ------------------------------------------------------------------------------


def test_each_article_carries_a_stable_digest_of_its_bytes(sample):
    first = [r.source_digest for r in pubmed_xml.parse(io.BytesIO(sample))]
    again = [r.source_digest for r in pubmed_xml.parse(io.BytesIO(sample))]
    assert first == again
    assert len(set(first)) == len(first) == 10
    assert all(re.fullmatch(r"[0-9a-f]{32}", digest) for digest in first)
    # One changed byte of one article changes that article's digest only.
    head, found, tail = articles(sample)
    found[3] = found[3].replace(b"<ArticleTitle>", b"<ArticleTitle>X", 1)
    changed = [r.source_digest for r in pubmed_xml.parse(io.BytesIO(document(head, found, tail)))]
    assert [a == b for a, b in zip(first, changed, strict=True)].count(False) == 1
    assert changed[3] != first[3]


def test_known_articles_come_back_unread_in_file_order(sample, monkeypatch):
    monkeypatch.setattr(pubmed_xml, "_KNOWN_GROUP", 3)
    plain = list(pubmed_xml.parse(io.BytesIO(sample), source_name=SAMPLE))
    known_digests = {record.source_digest for record in plain[::2]}
    items, queries = drive(sample, lambda pairs: {d for _, d in pairs if d in known_digests})
    assert len(queries) == 4  # 10 articles in groups of 3
    assert [item.location.record for item in items] == list(range(1, 11))
    for item, record in zip(items, plain, strict=True):
        if record.source_digest in known_digests:
            assert item == KnownRecord(record.location, int(record.pmid), record.source_digest)
        else:
            assert isinstance(item, StudyRecord)
            assert item == record


def test_after_a_query_that_finds_nothing_the_parser_only_probes(sample, monkeypatch):
    """A new file must not wait on a busy writer for every group. After a query that
    finds nothing, each group is read at once and its query is a probe, whose answer
    (whenever it comes) only says whether later groups wait again. Here answers come
    late, as from a writer busy with a batch: only once the parser has moved on."""
    monkeypatch.setattr(pubmed_xml, "_KNOWN_GROUP", 1)
    monkeypatch.setattr(pubmed_xml, "_ANSWER_GRACE", 0)
    plain = list(pubmed_xml.parse(io.BytesIO(sample)))
    known = {record.source_digest for record in plain[6:]}
    waited_for: list[int] = []

    def answer(query: KnownQuery) -> None:
        if not query.ready():
            query.answer({digest for _, digest in query.pairs if digest in known})

    real_wait = KnownQuery.wait

    def wait(query: KnownQuery) -> set[str]:
        if not query.ready():  # the parser waits: the writer answers in the end
            waited_for.append(query.pairs[0][0])
            answer(query)
        return real_wait(query)

    monkeypatch.setattr(KnownQuery, "wait", wait)
    items, pending = [], []
    for item in pubmed_xml.parse(io.BytesIO(sample), ask_known=True):
        if isinstance(item, KnownQuery):
            pending.append(item)
            continue
        for query in pending:
            answer(query)
        pending.clear()
        items.append(item)

    pmids = [int(record.pmid) for record in plain]
    # The first group asks and finds nothing; groups 2-7 only probe; the probe of
    # group 7 finds its article (read anyway), so groups 8-10 ask and wait again.
    assert waited_for == [pmids[0], pmids[7], pmids[8], pmids[9]]
    assert items[:7] == plain[:7]  # the first read while its answer was awaited
    assert items[7:] == [
        KnownRecord(record.location, int(record.pmid), record.source_digest) for record in plain[7:]
    ]


def test_a_pmid_twice_in_one_group_is_never_skipped(sample, monkeypatch):
    monkeypatch.setattr(pubmed_xml, "_KNOWN_GROUP", 20)
    head, found, tail = articles(sample)
    data = document(head, [*found, found[0]], tail)
    plain = list(pubmed_xml.parse(io.BytesIO(data)))
    items, queries = drive(data, lambda pairs: {d for _, d in pairs})
    asked = {pmid for pmid, _ in queries[0].pairs}
    assert int(plain[0].pmid) not in asked
    assert len(asked) == 9
    assert [type(item) for item in items].count(StudyRecord) == 2


# --- the import ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimport_counts_unchanged_articles_without_reading_them(sample, monkeypatch):
    # The writer answers at once; a slow machine must not make the parser read ahead.
    monkeypatch.setattr(pubmed_xml, "_ANSWER_GRACE", 60)
    first = study_import(stream=io.BytesIO(sample), source_name=SAMPLE)
    assert (first.status, first.created) == (ImportStatus.SUCCEEDED, 10)
    stored = dict(Study.objects.values_list("pmid", "import_fingerprint"))
    assert sorted(stored.values()) == sorted(
        r.source_digest for r in pubmed_xml.parse(io.BytesIO(sample))
    )
    reads = []
    read_item = pubmed_xml._read_item
    monkeypatch.setattr(
        pubmed_xml,
        "_read_item",
        lambda elem, location: reads.append(1) or read_item(elem, location),
    )
    again = study_import(stream=io.BytesIO(sample), source_name=SAMPLE)
    assert (again.status, again.records_seen, again.unchanged, again.created) == (
        ImportStatus.SUCCEEDED,
        10,
        10,
        0,
    )
    assert reads == []
    assert dict(Study.objects.values_list("pmid", "import_fingerprint")) == stored


@pytest.mark.django_db
def test_a_changed_article_is_read_and_updated(sample):
    study_import(stream=io.BytesIO(sample), source_name=SAMPLE)
    head, found, tail = articles(sample)
    pmid = re.search(rb"<PMID[^>]*>(\d+)</PMID>", found[4]).group(1).decode()
    found[4] = re.sub(rb"<ArticleTitle>", b"<ArticleTitle>Revised: ", found[4], count=1)
    run = study_import(stream=io.BytesIO(document(head, found, tail)), source_name=SAMPLE)
    assert (run.updated, run.unchanged, run.records_seen) == (1, 9, 10)
    assert Study.objects.get(pmid=pmid).title.startswith("Revised: ")


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("group", [2, 250])
def test_the_shortcut_writes_what_reading_every_record_writes(
    sample,
    settings,
    spawned,  # noqa: F811
    monkeypatch,
    group,
):
    """A file whose first copy of a PMID changes the study and whose second copy is the
    bytes the database held: asking (in a thread or a process) must leave the same rows
    and the same report as reading every record, in one group or in several."""
    monkeypatch.setattr(pubmed_xml, "_KNOWN_GROUP", group)
    study_import(stream=io.BytesIO(sample), source_name=SAMPLE)
    head, found, tail = articles(sample)
    changed = found[2].replace(b"<ArticleTitle>", b"<ArticleTitle>Changed ", 1)
    data = document(head, [found[0], changed, *found[3:], found[2], found[1]], tail)
    report, rows = import_both_ways(settings, spawned, data, "again.xml")
    assert (report["merged"], report["unchanged"], report["updated"]) == (1, 9, 1)
    # The file's last word on that study is its original bytes.
    assert not any("Changed" in str(value) for row in rows["evidence.Study"] for value in row)

    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = -1
    monkeypatch.setattr(registry, "_ASKS_KNOWN", frozenset())  # read every record
    with transaction.atomic():
        run = study_import(stream=io.BytesIO(data), source_name="again.xml")
        assert (report_of(run), rows_of()) == (report, rows)
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("in_process", [False, True])
def test_the_parser_thread_and_process_both_get_the_answer(sample, in_process):
    digests = {r.source_digest for r in pubmed_xml.parse(io.BytesIO(sample))}
    items = []
    with pipeline.parse_ahead(
        io.BytesIO(sample),
        source_name=SAMPLE,
        batch_size=1000,
        in_process=in_process,
        ask_known=True,
    ) as (_, chunks):
        for chunk in chunks:
            for item in chunk:
                if isinstance(item, KnownQuery):
                    item.answer({digest for _, digest in item.pairs} & digests)
                else:
                    items.append(item)
    assert [type(item) for item in items] == [KnownRecord] * 10
    assert {item.digest for item in items} == digests


@pytest.mark.django_db
def test_an_unwritten_record_matching_by_doi_keeps_the_article_from_being_known(
    sample, monkeypatch
):
    """The query is answered before the records read ahead of it are written: one of
    them (another PMID, the same DOI) changes the study, so the article carrying the
    study's stored bytes must be read and compared, as when every record is read."""
    study_import(stream=io.BytesIO(sample), source_name=SAMPLE)
    head, found, tail = articles(sample)
    index = next(i for i, item in enumerate(found) if b'IdType="doi"' in item)
    pmid = re.search(rb"<PMID[^>]*>(\d+)</PMID>", found[index]).group(1)
    other = re.sub(rb"(<PMID[^>]*>)\d+(</PMID>)", rb"\g<1>99999999\g<2>", found[index])
    other = other.replace(b"<ArticleTitle>", b"<ArticleTitle>Changed ", 1)
    unchanged = [item for i, item in enumerate(found) if i != index]
    # Groups of two: the first finds an unchanged article, so the second is asked too.
    data = document(head, [unchanged[0], other, found[index], unchanged[1]], tail)
    monkeypatch.setattr(pubmed_xml, "_KNOWN_GROUP", 2)

    with transaction.atomic():
        asked = study_import(stream=io.BytesIO(data), source_name="again.xml")
        result = (report_of(asked), rows_of())
        transaction.set_rollback(True)
    monkeypatch.setattr(registry, "_ASKS_KNOWN", frozenset())  # read every record
    read = study_import(stream=io.BytesIO(data), source_name="again.xml")
    assert result == (report_of(read), rows_of())
    assert not Study.objects.get(pmid=int(pmid)).title.startswith("Changed ")


@pytest.mark.django_db(transaction=False)
def test_a_new_file_ending_in_known_articles_probes_then_skips_them(
    settings,
    spawned,  # noqa: F811
    monkeypatch,
):
    """600 generated articles, the last 300 imported before: the first group's query
    finds nothing, so the parser probes; whenever a probe comes back with known
    articles it asks again. In a thread or a process, however the answers' timing
    falls, the result is that of reading every record."""
    from bench.generate import PubmedGenerator, write_pubmed_xml

    generator = PubmedGenerator(records=600, seed=7)

    def xml(start: int) -> bytes:
        out = io.StringIO()
        write_pubmed_xml(generator.iter_records(start=start), out)
        return out.getvalue().encode()

    study_import(stream=io.BytesIO(xml(300)), source_name="later.xml")
    data = xml(0)
    # Small batches: probes are answered while the parser is still in the file.
    report, rows = import_both_ways(settings, spawned, data, "all.xml", batch_size=50)
    assert (report["created"], report["unchanged"], report["records_seen"]) == (300, 300, 600)

    settings.EVIDB_IMPORT_PARSE_PROCESS_MIN_BYTES = -1
    monkeypatch.setattr(registry, "_ASKS_KNOWN", frozenset())  # read every record
    with transaction.atomic():
        run = study_import(stream=io.BytesIO(data), source_name="all.xml", batch_size=50)
        assert (report_of(run), rows_of()) == (report, rows)
        transaction.set_rollback(True)


def test_a_probe_answered_after_the_parser_process_has_exited_is_dropped(sample):
    """The last chunk may hold a probe the parser does not wait for: the process may
    be gone by the time the writer answers it."""
    options = {
        "source_name": SAMPLE,
        "format": "auto",
        "max_decompressed_bytes": None,
        "batch_size": 1000,
        "ask_known": False,
    }
    with pipeline._ParserProcess(io.BytesIO(sample), options) as producer:
        while producer.receive()[0] != "done":
            pass
        assert producer._process.wait(timeout=30) == 0
        probe = KnownQuery([(1, "digest")], probe=True)
        probe.relay_to(producer._answer)
        probe.answer(set())  # no BrokenPipeError
