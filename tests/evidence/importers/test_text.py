"""Text helpers shared by the parsers."""

from __future__ import annotations

import pytest

from evidence.importers.text import clean


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
