"""The web-search parser behind the SQLite fallback (no database)."""

from __future__ import annotations

import pytest

from evidence.search import Term, parse_web_search


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("osteonecrosis", [[Term("osteonecrosis")]]),
        ("stem cells", [[Term("stem"), Term("cells")]]),
        # OR binds loosest, as in websearch_to_tsquery: (sad AND cat) OR (fat AND rat).
        ("sad cat or fat rat", [[Term("sad"), Term("cat")], [Term("fat"), Term("rat")]]),
        ('"femoral head" -hip', [[Term("femoral head"), Term("hip", negated=True)]]),
        ('-"bone marrow" edema', [[Term("bone marrow", negated=True), Term("edema")]]),
        ('"unterminated   phrase', [[Term("unterminated phrase")]]),
        ("OR cat OR", [[Term("cat")]]),
        ("cat -", [[Term("cat")]]),
        ("", []),
        ('""', []),
    ],
)
def test_parse_web_search(text, groups):
    assert parse_web_search(text) == groups
