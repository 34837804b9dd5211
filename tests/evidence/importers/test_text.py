"""Text helpers shared by the parsers."""

from __future__ import annotations

import pytest

from evidence.importers.records import ParseError
from evidence.importers.text import clean, decode_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith &amp; Jones", "Smith & Jones"),
        ("1990&#8211;1999", "1990–1999"),
        ("1990&#x2013;1999", "1990–1999"),
        ("&lt;5 mm", "<5 mm"),
        # Text, not references: HTML's semicolon-less legacy names stay as written.
        ("smoking&notification", "smoking&notification"),
        ("&copy2019 Elsevier", "&copy2019 Elsevier"),
        ("R&D and AT&T", "R&D and AT&T"),
        ("an unknown &foo; stays", "an unknown &foo; stays"),
        ("  two\u00a0 spaces\n\tand\u2009a thin one ", "two spaces and a thin one"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_decodes_complete_references_only(raw, expected):
    assert clean(raw) == expected


def test_nul_bytes_past_the_start_are_dropped_and_said_where():
    # A damaged export: the text is readable, but no database column holds a NUL
    # (PostgreSQL refused the whole batch before; found by fuzzing MEDLINE).
    data = b"PMID- 1\n" + b"AB  - " + b"x" * 5000 + b"\nOT  - High School Stu\x00dents\n"

    text, warnings = decode_text(data, source_name="a.nbib")

    assert "High School Students" in text and "\x00" not in text
    assert warnings == ["a.nbib, line 3: 1 NUL byte(s) removed"]


def test_nul_bytes_at_the_start_mean_a_binary_file():
    with pytest.raises(ParseError, match="binary content"):
        decode_text(b"PK\x03\x04\x00\x00", source_name="a.zip")
