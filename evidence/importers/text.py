"""Decoding helpers shared by the text-format parsers (MEDLINE, RIS, BibTeX, seeds, JSON)."""

from __future__ import annotations

import html
import re
from typing import BinaryIO

from evidence.importers.records import ParseError, SourceLocation


def decode_text(data: bytes, *, source_name: str = "") -> tuple[str, list[str]]:
    """Bytes to text: UTF-8 (BOM dropped), else Windows-1252, with a warning when guessed.

    Returns the text with line endings unified to '\\n' and a list of warnings. Reference
    managers on Windows still write cp1252; rejecting those files would lose records.
    """
    warnings: list[str] = []
    if b"\x00" in data[:4096]:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            raise ParseError(
                "binary content (NUL bytes): not a citation text file",
                SourceLocation(source_name),
            )
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = data.decode("cp1252", errors="replace")
            warnings.append(
                f"{source_name or '<input>'}: not valid UTF-8 (byte {exc.start}); "
                "read as Windows-1252"
            )
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        # Past the start, a NUL is damage in a text file (no database column can hold
        # one): dropped, and said where.
        line = text.count("\n", 0, text.index("\x00")) + 1
        warnings.append(
            f"{source_name or '<input>'}, line {line}: {text.count(chr(0))} NUL byte(s) removed"
        )
        text = text.replace("\x00", "")
    return text, warnings


def read_text(stream: BinaryIO, *, source_name: str = "") -> tuple[str, list[str]]:
    return decode_text(stream.read(), source_name=source_name)


# A complete character reference: "&amp;", "&#8211;", "&#x2013;". html.unescape alone
# would also decode HTML's legacy names without the semicolon, turning the text
# "smoking&notification" into "smoking¬ification" and "&copy2019" into "©2019".
_CHARACTER_REFERENCE_RE = re.compile(
    r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)


def _unescape_reference(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


def clean(value: str | None) -> str:
    """Collapse runs of white space (incl. no-break and thin spaces) and decode complete
    character references ("&amp;", "&#x2013;") that exports leave in text."""
    if not value:
        return ""
    if "&" in value:
        value = _CHARACTER_REFERENCE_RE.sub(_unescape_reference, value)
    # str.split() splits on every Unicode space (no-break, thin...) like \s+, 4x faster.
    return " ".join(value.split())


# Characters no column can store: NUL (PostgreSQL refuses it in text and jsonb) and lone
# surrogates such as JSON's "\\ud800" (no encoding can write them).
UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    found = UNSTORABLE_RE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return f"contains an unpaired surrogate (U+{ord(found.group()):04X})"
