"""Which parser reads a file: format names, content sniffing, transparent gzip.

    fmt, items = parse_source(stream, source_name="export.nbib.gz")

``parse_source`` un-gzips when the bytes say so (magic ``1f 8b``, whatever the name),
detects the format from the content (the file name only breaks ties), and returns the
format name with the chosen parser's iterator. Parsers are imported on first use, so a
format whose module is missing fails only when it is asked for.
"""

from __future__ import annotations

import gzip
import importlib
import io
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import BinaryIO

from evidence.importers.records import ParsedItem, ParseError, SourceLocation

__all__ = [
    "FORMATS",
    "HEAD_SIZE",
    "detect_format",
    "get_parser",
    "open_input",
    "parse_source",
]

Parser = Callable[..., Iterator[ParsedItem]]

# Format name -> module whose ``parse(stream, *, source_name)`` reads it.
_MODULES: dict[str, str] = {
    "pubmed-xml": "evidence.importers.pubmed_xml",
    "medline": "evidence.importers.medline",
    "ris": "evidence.importers.ris",
    "bibtex": "evidence.importers.bibtex",
    "evidence-summary": "evidence.importers.evidence_summary",
    "article-page": "evidence.importers.article_page",
    "json": "evidence.importers.evidb_json",
}

# Formats whose parser takes ``ask_known`` (see parse_source).
_ASKS_KNOWN = frozenset({"pubmed-xml"})

_EXTENSIONS: dict[str, str] = {
    ".xml": "pubmed-xml",
    ".nbib": "medline",
    # PubMed's "Save > PubMed format" writes pubmed-<query>-set.txt.
    ".txt": "medline",
    ".medline": "medline",
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".json": "json",
}

# Detection looks at this much of the (decompressed) start of the file.
HEAD_SIZE = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_READ_SIZE = 64 * 1024


def _lazy(name: str, module_path: str) -> Parser:
    def parse(stream: BinaryIO, *, source_name: str = "", **options) -> Iterator[ParsedItem]:
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            if exc.name != module_path:
                raise  # a missing dependency inside the parser is a real bug
            raise ParseError(
                f"the {name} importer ({module_path}) is not available in this build",
                SourceLocation(source_name),
            ) from exc
        return module.parse(stream, source_name=source_name, **options)

    parse.__name__ = f"parse_{name.replace('-', '_')}"
    parse.__qualname__ = parse.__name__
    parse.__doc__ = f"Parse {name} with {module_path}.parse (imported on first use)."
    return parse


FORMATS: dict[str, Parser] = {name: _lazy(name, module) for name, module in _MODULES.items()}


def get_parser(name: str) -> Parser:
    try:
        return FORMATS[name]
    except KeyError:
        raise ParseError(
            f"unknown format {name!r}: choose one of auto, {', '.join(sorted(FORMATS))}"
        ) from None


# --- streams -----------------------------------------------------------------------------


class _Replay(io.RawIOBase):
    """Bytes already read from the start of a stream, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _BoundedGzip(io.RawIOBase):
    """Decompresses a gzip stream, refusing to produce more than ``limit`` bytes."""

    def __init__(self, compressed: BinaryIO, *, source_name: str, limit: int | None) -> None:
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._source_name = source_name
        self._limit = limit
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        size = len(buffer)
        if self._limit is not None:
            # Ask for one byte past the limit so reaching it exactly is not an error.
            size = min(size, self._limit + 1 - self._produced)
        try:
            data = self._gzip.read(max(size, 0))
        except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
            raise ParseError(
                f"corrupt gzip stream: {exc}", SourceLocation(self._source_name)
            ) from exc
        self._produced += len(data)
        if self._limit is not None and self._produced > self._limit:
            raise ParseError(
                f"decompressed size exceeds {self._limit} bytes: refusing a possible gzip bomb",
                SourceLocation(self._source_name),
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._gzip.close()  # leaves the caller's compressed stream open
        super().close()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at end of stream (raw reads may return less)."""
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def open_input(
    stream: BinaryIO, *, source_name: str, max_decompressed_bytes: int | None = None
) -> BinaryIO:
    """The stream's content, decompressed when it starts with the gzip magic bytes.

    Decompression is lazy; a corrupt stream, or one inflating past
    ``max_decompressed_bytes``, raises ParseError when read. The caller's stream is
    not closed.
    """
    magic = _read_exactly(stream, len(_GZIP_MAGIC))
    replayed = io.BufferedReader(_Replay(magic, stream), buffer_size=_READ_SIZE)
    if magic != _GZIP_MAGIC:
        return replayed
    return io.BufferedReader(
        _BoundedGzip(replayed, source_name=source_name, limit=max_decompressed_bytes),
        buffer_size=_READ_SIZE,
    )


# --- detection -----------------------------------------------------------------------------

_PUBMED_XML_RE = re.compile(r"<(?:!DOCTYPE\s+)?Pubmed(?:Book)?Article(?:Set)?\b")
_JSON_START_RE = re.compile(r'^(?:\{\s*(?:"|\}|$)|\[\s*(?:\{|\]|$))')
# "PMID- 123", and "PMID-123" as hand-edited files and JabRef's tests write it.
_MEDLINE_PMID_RE = re.compile(r"^PMID-(?: |\d)", re.MULTILINE)
_MEDLINE_TAG_RE = re.compile(r"^(?:TI|AU|FAU|DP)\s*- ", re.MULTILINE)
_MEDLINE_OWNER_RE = re.compile(r"^(?:PMID- |OWN - |STAT- )", re.MULTILINE)
_RIS_RE = re.compile(r"^TY\s{0,3}-\s", re.MULTILINE)
_BIBTEX_RE = re.compile(r"^\s*@\w+\s*[{(]", re.MULTILINE)
_ARTICLE_PAGE_RE = re.compile(r"(?:»|>>)\s*Articles\s*(?:»|>>)\s*PMID:")
_SUMMARY_RE = re.compile(r"View\s+Original\s+Abstract", re.IGNORECASE)


def detect_format(head: bytes, filename: str = "") -> str:
    """The format name for a file starting with ``head``, from its content first.

    The name's extension (``.gz`` ignored) decides only when the content is not
    recognisable; otherwise ParseError.
    """
    text = _head_text(head[:HEAD_SIZE])
    stripped = text.lstrip()
    if stripped.startswith("<") and _PUBMED_XML_RE.search(stripped):
        return "pubmed-xml"
    if _JSON_START_RE.match(stripped):
        return "json"
    if _MEDLINE_PMID_RE.search(text):
        return "medline"
    if _RIS_RE.search(text):
        return "ris"
    if _MEDLINE_TAG_RE.search(text) and _MEDLINE_OWNER_RE.search(text):
        return "medline"
    if _BIBTEX_RE.search(text):
        return "bibtex"
    if _ARTICLE_PAGE_RE.search(text) or (
        "Citing Articles" in text and "References" in text and "PMID" in text
    ):
        return "article-page"
    if _SUMMARY_RE.search(text):
        return "evidence-summary"
    by_extension = _EXTENSIONS.get(_extension(filename))
    if by_extension:
        return by_extension
    raise ParseError(
        f"cannot tell the format of {filename or '<input>'}: not PubMed XML, MEDLINE, RIS, "
        "BibTeX, EviDB JSON or an EviDB seed text; pass --format",
        SourceLocation(filename),
    )


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        # A multi-byte character may be cut at the end of the head: replace, don't fail.
        text = head.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _extension(filename: str) -> str:
    suffixes = [suffix.lower() for suffix in PurePath(filename).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


# --- entry point -----------------------------------------------------------------------------


def parse_source(
    stream: BinaryIO,
    *,
    source_name: str,
    format: str = "auto",
    max_decompressed_bytes: int | None = None,
    ask_known: bool = False,
) -> tuple[str, Iterator[ParsedItem]]:
    """(format name, parsed items) for a possibly gzipped stream.

    ``format="auto"`` detects it from the first ``HEAD_SIZE`` bytes, which are replayed
    to the parser, so nothing is consumed twice and non-seekable streams work.
    ``ask_known`` lets a parser that can recognise unchanged records from their bytes
    (PubMed XML) ask which ones the database holds (``KnownQuery``).
    """
    parser = None if format == "auto" else get_parser(format)
    opened = open_input(
        stream, source_name=source_name, max_decompressed_bytes=max_decompressed_bytes
    )
    if parser is None:
        head = _read_exactly(opened, HEAD_SIZE)
        format = detect_format(head, source_name)
        parser = FORMATS[format]
        opened = io.BufferedReader(_Replay(head, opened), buffer_size=_READ_SIZE)
    options = {"ask_known": True} if ask_known and format in _ASKS_KNOWN else {}
    return format, parser(opened, source_name=source_name, **options)
