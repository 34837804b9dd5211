from __future__ import annotations

import gzip
import importlib.util
import io
from pathlib import Path

import pytest

from evidence.importers import registry
from evidence.importers.records import ParseError, StudyRecord
from evidence.importers.registry import (
    FORMATS,
    HEAD_SIZE,
    detect_format,
    get_parser,
    open_input,
    parse_source,
)
from tests.conftest import SAMPLES_DIR, SEEDS_DIR

SUMMARY_SEED = "000_0dd471af31d152d3.txt"
PAGE_SEED = "002_aa5c579476d7ef13.txt"
# From each file's extension, and PROVENANCE.md for the one .txt (a MEDLINE export).
_BY_EXTENSION = {".xml": "pubmed-xml", ".nbib": "medline", ".ris": "ris", ".bib": "bibtex"}
_BY_NAME = {"biopython_pubmed_result2.txt": "medline"}


def expected_sample_format(name: str) -> str:
    return _BY_NAME.get(name) or _BY_EXTENSION[Path(name).suffix]


def sample_names() -> list[str]:
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.name != "PROVENANCE.md")


class NonSeekable(io.RawIOBase):
    """A pipe-like stream: no seek, no peek, short reads."""

    def __init__(self, data: bytes, max_read: int = 5) -> None:
        self._data = io.BytesIO(data)
        self._max_read = max_read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), self._max_read))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def module_available(name: str) -> bool:
    return importlib.util.find_spec(registry._MODULES[name]) is not None


# --- detection -------------------------------------------------------------------------------


def test_every_sample_has_a_known_expected_format() -> None:
    names = sample_names()
    if not names:
        pytest.skip(
            f"{SAMPLES_DIR} is absent: the shared sample files are not beside this checkout"
        )
    assert len(names) >= 16
    assert {expected_sample_format(name) for name in names} == {
        "pubmed-xml",
        "medline",
        "ris",
        "bibtex",
    }


@pytest.mark.parametrize("name", sample_names() or ["asreview_pubmed.xml"])
def test_detects_every_sample_from_content_alone(sample_path, name: str) -> None:
    head = sample_path(name).read_bytes()[:HEAD_SIZE]
    # No file name: content decides.
    assert detect_format(head) == expected_sample_format(name)
    assert detect_format(head, name) == expected_sample_format(name)


@pytest.mark.parametrize(
    ("name", "expected"), [(SUMMARY_SEED, "evidence-summary"), (PAGE_SEED, "article-page")]
)
def test_detects_the_seeds(seed_path, name: str, expected: str) -> None:
    assert detect_format(seed_path(name).read_bytes(), name) == expected
    assert detect_format(seed_path(name).read_bytes()) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"format": "evidb", "version": 1, "studies": []}', "json"),
        (b'\xef\xbb\xbf\n  [\n {"title": "x"}]', "json"),
        (b"[]", "json"),
        (b"<?xml version='1.0'?>\n<PubmedArticle><MedlineCitation/>", "pubmed-xml"),
        (b"<PubmedBookArticleSet>", "pubmed-xml"),
        (b"\r\nPMID- 1\r\nTI  - x\r\n", "medline"),
        (b"PMID-22664220\nTI  -A title\n", "medline"),
        (b"OWN - ERIC\nTI  - A title\nAU  - Doe, J\n", "medline"),
        (b"TY - JOUR\nTI - tolerant spacing\nER -\n", "ris"),
        (b"% comment\n@Article {key,\n title = {x}}", "bibtex"),
        (b"@string{jb = {J Bone}}\n", "bibtex"),
        (b"Title\nCiting Articles\nx\nReferences\n1.\nPMID: 1", "article-page"),
        (b"Prose.\nview original abstract\nAbstract.", "evidence-summary"),
    ],
)
def test_content_signatures(head: bytes, expected: str) -> None:
    assert detect_format(head, "no-extension") == expected


def test_content_wins_over_the_extension() -> None:
    assert detect_format(b"TY  - JOUR\nER  - \n", "mislabelled.xml") == "ris"
    assert detect_format(b"PMID- 123\nTI  - x\n", "export.ris") == "medline"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("export.xml", "pubmed-xml"),
        ("export.nbib", "medline"),
        ("pubmed-set.txt", "medline"),
        ("library.RIS", "ris"),
        ("refs.bib", "bibtex"),
        ("dump.json", "json"),
        ("/some/dir/refs.bib.gz", "bibtex"),
    ],
)
def test_extension_decides_only_when_content_is_unrecognisable(
    filename: str, expected: str
) -> None:
    assert detect_format(b"", filename) == expected
    assert detect_format(b"nothing recognisable here", filename) == expected


@pytest.mark.parametrize("filename", ["notes.dat", "", "archive.gz", "README"])
def test_undetectable_content_is_a_parse_error(filename: str) -> None:
    with pytest.raises(ParseError, match=r"cannot tell the format of .*pass --format") as info:
        detect_format(b"Dear colleague, here are some thoughts.\n", filename)
    assert "not PubMed XML, MEDLINE, RIS, BibTeX, EviDB JSON or an EviDB seed text" in str(
        info.value
    )


def test_detection_reads_only_the_head() -> None:
    late_marker = b"x" * HEAD_SIZE + b"\nPMID- 1\n"
    with pytest.raises(ParseError, match="cannot tell"):
        detect_format(late_marker, "data.bin")


# --- gzip ----------------------------------------------------------------------------------


def test_open_input_passes_plain_bytes_through() -> None:
    data = b"TY  - JOUR\nER  - \n"
    assert open_input(io.BytesIO(data), source_name="x.ris").read() == data
    assert open_input(NonSeekable(data), source_name="x.ris").read() == data
    assert open_input(io.BytesIO(b""), source_name="empty").read() == b""
    assert open_input(io.BytesIO(b"\x1f"), source_name="one").read() == b"\x1f"


def test_open_input_decompresses_by_magic_bytes_not_name(seed_path) -> None:
    data = seed_path(PAGE_SEED).read_bytes()
    compressed = gzip.compress(data)
    # Named without .gz: the magic bytes decide.
    assert open_input(io.BytesIO(compressed), source_name="page.txt").read() == data
    assert open_input(NonSeekable(compressed), source_name="page").read() == data


def test_parse_source_is_transparent_to_gzip(seed_path) -> None:
    data = seed_path(PAGE_SEED).read_bytes()
    plain_format, plain = parse_source(io.BytesIO(data), source_name="page.txt")
    gz_format, unzipped = parse_source(NonSeekable(gzip.compress(data)), source_name="page.txt.gz")
    assert plain_format == gz_format == "article-page"
    plain_records = list(plain)
    unzipped_records = list(unzipped)
    assert plain_records[0].pmid == "33081809"
    assert [r.location.source for r in unzipped_records] == ["page.txt.gz"]
    for record in (*plain_records, *unzipped_records):
        record.location.source = ""
    assert unzipped_records == plain_records


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024
    stream = open_input(io.BytesIO(bomb), source_name="bomb.gz", max_decompressed_bytes=1_000_000)
    with pytest.raises(ParseError, match="decompressed size exceeds 1000000 bytes") as info:
        while stream.read(64 * 1024):
            pass
    assert "gzip bomb" in str(info.value)
    assert info.value.location.source == "bomb.gz"


def test_gzip_bomb_is_refused_through_parse_source() -> None:
    bomb = gzip.compress(b"a" * (50 * 1024 * 1024), compresslevel=9)
    fmt, items = parse_source(
        io.BytesIO(bomb),
        source_name="bomb.txt",
        format="article-page",
        max_decompressed_bytes=1_000_000,
    )
    assert fmt == "article-page"
    with pytest.raises(ParseError, match="refusing a possible gzip bomb"):
        list(items)


def test_decompressed_size_exactly_at_the_limit_is_allowed() -> None:
    data = b"y" * 1000
    stream = open_input(
        io.BytesIO(gzip.compress(data)), source_name="x.gz", max_decompressed_bytes=1000
    )
    assert stream.read() == data
    with pytest.raises(ParseError, match="exceeds 999 bytes"):
        open_input(
            io.BytesIO(gzip.compress(data)), source_name="x.gz", max_decompressed_bytes=999
        ).read()


@pytest.mark.parametrize(
    "corrupt",
    [
        gzip.compress(b"PMID- 1\nTI  - x\n" * 100, mtime=0)[:40],
        b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"not deflate data at all",
        b"\x1f\x8b\x07garbage",
        b"\x1f\x8b",
    ],
    # Explicit ids: pytest-xdist workers must collect identical test names.
    ids=["truncated", "bad-deflate-stream", "unknown-method", "magic-only"],
)
def test_corrupt_gzip_is_a_parse_error(corrupt: bytes) -> None:
    with pytest.raises(ParseError, match="corrupt gzip stream") as info:
        open_input(io.BytesIO(corrupt), source_name="broken.gz").read()
    assert info.value.location.source == "broken.gz"
    with pytest.raises(ParseError, match="corrupt gzip stream"):
        _, items = parse_source(io.BytesIO(corrupt), source_name="broken.ris.gz")
        list(items)


def test_crc_mismatch_is_detected() -> None:
    compressed = bytearray(gzip.compress(b"TY  - JOUR\nER  - \n"))
    compressed[-8] ^= 0xFF  # CRC32 of the trailer
    with pytest.raises(ParseError, match="corrupt gzip stream"):
        open_input(io.BytesIO(bytes(compressed)), source_name="crc.gz").read()


# --- dispatch ------------------------------------------------------------------------------


def test_format_names() -> None:
    assert set(FORMATS) == {
        "pubmed-xml",
        "medline",
        "ris",
        "bibtex",
        "evidence-summary",
        "article-page",
        "json",
    }
    assert all(callable(parser) for parser in FORMATS.values())


def test_unknown_format_name_lists_the_valid_ones() -> None:
    with pytest.raises(ParseError, match="unknown format 'csv'") as info:
        parse_source(io.BytesIO(b""), source_name="x.csv", format="csv")
    for name in FORMATS:
        assert name in str(info.value)
    with pytest.raises(ParseError, match="unknown format"):
        get_parser("endnote")


def test_explicit_format_skips_detection(seed_path) -> None:
    data = seed_path(SUMMARY_SEED).read_bytes()
    fmt, items = parse_source(io.BytesIO(data), source_name="odd.bib", format="evidence-summary")
    assert fmt == "evidence-summary"
    (record,) = list(items)
    assert record.appraisal.design == "systematic_review"


@pytest.mark.parametrize(
    ("fmt", "sample"),
    [
        ("pubmed-xml", "asreview_pubmed.xml"),
        ("medline", "biopython_pubmed_result2.txt"),
        ("ris", "zotero_ris_baldwin1996.ris"),
        ("bibtex", "zotero_bibtex_a.bib"),
    ],
)
def test_dispatches_samples_to_their_parser(sample_path, fmt: str, sample: str) -> None:
    if not module_available(fmt):
        pytest.skip(f"{registry._MODULES[fmt]} is not written yet")
    path = sample_path(sample)
    with path.open("rb") as stream:
        detected, items = parse_source(stream, source_name=str(path))
        records = [item for item in items if isinstance(item, StudyRecord)]
    assert detected == fmt
    assert records
    assert records[0].location.source == str(path)


@pytest.mark.parametrize(
    ("fmt", "name"), [("evidence-summary", SUMMARY_SEED), ("article-page", PAGE_SEED)]
)
def test_dispatches_seeds_to_their_parser(fmt: str, name: str) -> None:
    path = SEEDS_DIR / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    # A long head read (bigger than the file) must not lose or repeat bytes.
    with path.open("rb") as stream:
        detected, items = parse_source(NonSeekable(stream.read(), max_read=3), source_name=name)
    (record,) = list(items)
    assert detected == fmt
    assert isinstance(record, StudyRecord)
    if fmt == "article-page":
        assert record.abstract.startswith("Osteonecrosis (ON)")
        assert record.references[-1].doi == "10.1038/bmt.2017.35"
    else:
        assert record.abstract.endswith("hip-preserving treatment strategies for SONFH.")


def test_head_bytes_are_replayed_to_the_parser() -> None:
    # The study straddles the detection head: nothing may be dropped or duplicated.
    title = "x" * (HEAD_SIZE + 100)
    data = f'{{"format": "evidb", "version": 1, "studies": [{{"title": "{title}"}}]}}'.encode()
    fmt, items = parse_source(NonSeekable(data, max_read=4096), source_name="big.json")
    (record,) = list(items)
    assert fmt == "json"
    assert record.title == title


def test_missing_parser_module_fails_only_when_used() -> None:
    parser = registry._lazy("endnote-xml", "evidence.importers.does_not_exist")
    with pytest.raises(ParseError, match=r"importer .* is not available") as info:
        parser(io.BytesIO(b""), source_name="lib.xml")
    assert info.value.location.source == "lib.xml"
