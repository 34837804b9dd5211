"""EviDB JSON: the project's own lossless export format, written and read here.

    {"format": "evidb", "version": 1, "studies": [<study>, ...]}

Each study is ``dataclasses.asdict(StudyRecord)`` without ``location`` and ``warnings``
(those describe one import, not the study), enums as their values. A bare JSON list of
study objects is accepted too.

Both directions stream: ``dump_records`` writes each study as it comes, and ``parse``
decodes one study at a time from a buffer that is refilled as needed, so a 100,000-study
export is never held in memory whole. The one exception: a document that puts
``"studies"`` before ``"format"``/``"version"`` (not what ``dump_records`` writes) has its
studies buffered until the header has been checked.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import cache
from typing import Any, BinaryIO, TextIO

from evidence.importers.records import (
    InvalidRecord,
    ParsedItem,
    ParseError,
    SourceLocation,
    StudyRecord,
)
from evidence.importers.text import text_problem

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "dump_records",
    "parse",
    "study_from_dict",
    "study_to_dict",
]

FORMAT_NAME = "evidb"
# Python's integers are unbounded, JSON's in practice are not: no column is wider than
# 64 bits, and the record's digest (orjson) cannot write a larger one.
_MAX_INTEGER = 2**63 - 1
FORMAT_VERSION = 1
# Per-import fields, never exported. source_digest is the digest of a record's bytes in
# the file it came from (PubMed XML), never the JSON's to set: a file could otherwise
# choose the fingerprint a study is matched by. Exports before 2026-11-24 wrote it empty,
# so it is dropped without a warning.
_EXCLUDED_FIELDS = frozenset({"location", "warnings", "source_digest"})
_DROPPED_SILENTLY = frozenset({"source_digest"})
_HEADER_KEYS = frozenset({"format", "version", "studies"})
_CHUNK_SIZE = 1 << 16


# --- writing ----------------------------------------------------------------------------


def study_to_dict(record: StudyRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record, dict_factory=_plain_dict)
    for name in _EXCLUDED_FIELDS:
        data.pop(name, None)
    return data


def _plain_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value.value if isinstance(value, Enum) else value for key, value in items}


def dump_records(records: Iterable[StudyRecord], out: TextIO) -> None:
    """Write an EviDB JSON document, one study per line, without collecting the records."""
    out.write(f'{{"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}, "studies": [')
    separator = "\n"
    for record in records:
        out.write(separator)
        out.write(json.dumps(study_to_dict(record), ensure_ascii=False))
        separator = ",\n"
    out.write("\n]}\n")


# --- reading ----------------------------------------------------------------------------


class _FieldError(Exception):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def parse(stream: BinaryIO, *, source_name: str = "") -> Iterator[ParsedItem]:
    reader = _JsonStreamReader(stream, source_name)
    first = reader.skip_whitespace()
    if first == "":
        raise ParseError("empty file: no EviDB JSON", reader.location())
    if first == "[":
        yield from _parse_studies(reader, source_name, prefix="")
        reader.expect_end()
        return
    if first != "{":
        raise ParseError(
            "not EviDB JSON: expected an object or a list of studies", reader.location()
        )
    reader.advance(1)
    header: dict[str, Any] = {}
    buffered: list[ParsedItem] | None = None
    saw_studies = False
    for key in reader.object_keys():
        if key == "studies":
            saw_studies = True
            if reader.skip_whitespace() != "[":
                raise ParseError('"studies" must be a list', reader.location())
            studies = _parse_studies(reader, source_name, prefix="studies")
            studies = _with_header_warnings(studies, header)
            if _header_complete(header):
                _check_header(header, reader)
                yield from studies
            else:
                buffered = list(studies)
        else:
            header[key] = reader.value()
    reader.expect_end()
    _check_header(header, reader)
    if not saw_studies:
        raise ParseError('no "studies" list in EviDB JSON', reader.location())
    if buffered is not None:
        yield from buffered


def _with_header_warnings(
    items: Iterator[ParsedItem], header: dict[str, Any]
) -> Iterator[ParsedItem]:
    """Unknown top-level keys (seen before the studies) are reported on the first study."""
    unknown = [
        f"{key}: unknown top-level field, ignored" for key in header if key not in _HEADER_KEYS
    ]
    for item in items:
        if unknown and isinstance(item, StudyRecord):
            item.warnings[:0] = unknown
            unknown = []
        yield item


def _header_complete(header: dict[str, Any]) -> bool:
    return "format" in header and "version" in header


def _check_header(header: dict[str, Any], reader: _JsonStreamReader) -> None:
    if header.get("format") != FORMAT_NAME:
        raise ParseError(
            f"not an EviDB export: format is {header.get('format')!r}, expected {FORMAT_NAME!r}",
            reader.location(),
        )
    version = header.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ParseError(
            f"unsupported EviDB JSON version {version!r}: this EviDB reads version "
            f"{FORMAT_VERSION}",
            reader.location(),
        )


def _parse_studies(
    reader: _JsonStreamReader, source_name: str, *, prefix: str
) -> Iterator[ParsedItem]:
    for index, line, value in reader.array_items():
        location = SourceLocation(source_name, record=index + 1, line=line)
        path = f"{prefix}[{index}]"
        warnings: list[str] = []
        try:
            record = study_from_dict(value, path=path, warnings=warnings)
        except _FieldError as exc:
            yield InvalidRecord(location, str(exc))
            continue
        record.location = location
        record.warnings = warnings
        yield record


def study_from_dict(
    value: Any, *, path: str = "study", warnings: list[str] | None = None
) -> StudyRecord:
    """A study object back to a StudyRecord; raises _FieldError naming the bad field."""
    warnings = warnings if warnings is not None else []
    record = _convert(value, StudyRecord, path, warnings)
    assert isinstance(record, StudyRecord)
    return record


_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "list",
    dict: "object",
    type(None): "null",
}


def _describe(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _convert(value: Any, annotation: Any, path: str, warnings: list[str]) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
        if value is None and len(arms) < len(typing.get_args(annotation)):
            return None
        if len(arms) != 1:
            raise TypeError(f"unsupported annotation {annotation!r}")  # a records.py change
        return _convert(value, arms[0], path, warnings)
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise _FieldError(path, f"expected list, got {_describe(value)}")
        return [
            _convert(item, item_type, f"{path}[{index}]", warnings)
            for index, item in enumerate(value)
        ]
    if dataclasses.is_dataclass(annotation):
        return _convert_dataclass(value, annotation, path, warnings)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return annotation(value)
        except ValueError:
            choices = ", ".join(repr(member.value) for member in annotation)
            raise _FieldError(path, f"expected one of {choices}, got {value!r}") from None
    if annotation is bool:
        if not isinstance(value, bool):
            raise _FieldError(path, f"expected boolean, got {_describe(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _FieldError(path, f"expected integer, got {_describe(value)}")
        if not -_MAX_INTEGER <= value <= _MAX_INTEGER:
            raise _FieldError(path, f"integer {value} is out of range")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _FieldError(path, f"expected number, got {_describe(value)}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise _FieldError(path, f"expected string, got {_describe(value)}")
        if problem := text_problem(value):
            raise _FieldError(path, problem)
        return value
    raise TypeError(f"unsupported annotation {annotation!r}")


def _convert_dataclass(value: Any, cls: type, path: str, warnings: list[str]) -> Any:
    if not isinstance(value, dict):
        raise _FieldError(path, f"expected object, got {_describe(value)}")
    fields, hints = _dataclass_fields(cls)
    kwargs = {}
    for key, item in value.items():
        if key not in fields:
            if not (cls is StudyRecord and key in _DROPPED_SILENTLY):
                warnings.append(f"{path}.{key}: unknown field, ignored")
            continue
        kwargs[key] = _convert(item, hints[key], f"{path}.{key}", warnings)
    for name, field in fields.items():
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if required and name not in kwargs:
            raise _FieldError(f"{path}.{name}", "required field missing")
    return cls(**kwargs)


@cache
def _dataclass_fields(cls: type) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: field
        for field in dataclasses.fields(cls)
        if not (cls is StudyRecord and field.name in _EXCLUDED_FIELDS)
    }
    return fields, hints


class _JsonStreamReader:
    """Just enough of a pull parser for the EviDB layout: the top-level container is
    walked by hand and each value inside it is decoded by ``json`` from a refilled buffer.
    """

    def __init__(self, stream: BinaryIO, source_name: str) -> None:
        self._stream = stream
        self._source_name = source_name
        # JSON is UTF-8 by definition (RFC 8259); a BOM is tolerated.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._json = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._lines_before_buffer = 0  # newlines in text already dropped from the buffer

    def location(self) -> SourceLocation:
        return SourceLocation(self._source_name, line=self._line())

    def _line(self) -> int:
        return self._lines_before_buffer + self._buffer.count("\n", 0, self._pos) + 1

    def _fill(self) -> bool:
        """Read more text; False at end of input."""
        if self._eof:
            return False
        if self._pos > _CHUNK_SIZE:
            self._lines_before_buffer += self._buffer.count("\n", 0, self._pos)
            self._buffer = self._buffer[self._pos :]
            self._pos = 0
        chunk = self._stream.read(_CHUNK_SIZE)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ParseError(f"not UTF-8 text: {exc}", self.location()) from exc
        if not chunk:
            self._eof = True
        self._buffer += text
        return bool(chunk) or bool(text)

    def skip_whitespace(self) -> str:
        """The next non-blank character, not consumed ('' at end of input)."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def advance(self, count: int) -> None:
        self._pos += count

    def expect(self, chars: str) -> str:
        char = self.skip_whitespace()
        if char == "" or char not in chars:
            found = repr(char) if char else "end of file"
            raise ParseError(
                f"invalid JSON: expected {' or '.join(repr(c) for c in chars)}, found {found}",
                self.location(),
            )
        self._pos += 1
        return char

    def expect_end(self) -> None:
        char = self.skip_whitespace()
        if char:
            raise ParseError(
                f"invalid JSON: unexpected {char!r} after the document", self.location()
            )

    def value(self) -> Any:
        """Decode the next JSON value, reading more input until it is complete."""
        self.skip_whitespace()
        while True:
            try:
                value, end = self._json.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                line = self._lines_before_buffer + self._buffer.count("\n", 0, exc.pos) + 1
                raise ParseError(
                    f"invalid JSON: {exc.msg}", SourceLocation(self._source_name, line=line)
                ) from exc
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self._buffer) and not self._eof and self._fill():
                continue
            self._pos = end
            return value

    def object_keys(self) -> Iterator[str]:
        """Keys of the object whose '{' was consumed; the caller reads each value."""
        if self.skip_whitespace() == "}":
            self._pos += 1
            return
        while True:
            if self.skip_whitespace() != '"':
                raise ParseError("invalid JSON: expected a quoted key", self.location())
            key = self.value()
            self.expect(":")
            yield key
            if self.expect(",}") == "}":
                return

    def array_items(self) -> Iterator[tuple[int, int, Any]]:
        """(index, line, value) for each item of the array starting here."""
        self.expect("[")
        if self.skip_whitespace() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            self.skip_whitespace()
            line = self._line()
            yield index, line, self.value()
            index += 1
            if self.expect(",]") == "]":
                return
