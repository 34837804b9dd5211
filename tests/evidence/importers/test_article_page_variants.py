# Variants of the article-page style for other studies: sections with counts or missing,
# references laid out differently, other date and count styles, several or damaged pages.
from __future__ import annotations

import io

import pytest

from evidence.importers import article_page
from evidence.importers.records import DatePrecision, InvalidRecord, StudyRecord, WorkRecord


def parse_text(text: str, *, newline: str = "\n") -> list[StudyRecord | InvalidRecord]:
    data = text.replace("\n", newline).encode("utf-8")
    return list(article_page.parse(io.BytesIO(data), source_name="page.txt"))


def parse_one(text: str, *, newline: str = "\n") -> StudyRecord:
    (record,) = parse_text(text, newline=newline)
    assert isinstance(record, StudyRecord)
    return record


def page(overview: str = "", body: str = "", *, pmid: str = "31234567") -> str:
    return (
        f"» Articles » PMID: {pmid}\n\n"
        "Zoledronic Acid for Early Osteonecrosis of the Femoral Head: A Randomized Trial\n\n"
        f"Overview\nJournal Bone\n{overview}PMID {pmid}\n"
        "Authors\nAffiliations\nSoon will be listed here.\n"
        "Abstract\n\nZoledronic acid did not prevent collapse in early osteonecrosis.\n\n"
        f"{body}"
    )


CITING_TWO = """\
Citing Articles (2)

Bisphosphonates for osteonecrosis of the femoral head: a meta-analysis of randomized
controlled trials.

Li Y, Ma X, Dong B J Orthop Surg Res. 2024; 19(1):30.

PMID: 38172990 PMC: 10765848. DOI: 10.1186/s13018-023-04513-x.


Bone-targeted therapy in osteonecrosis.

Ma M, Cui G PeerJ. 2024;

PMID: 36710868. DOI: https://doi.org/10.7717/peerj.14677.

"""

REFERENCES_TWO = """\
References
1.
Agarwala S, Shah S . Ten-year follow-up of avascular necrosis of femoral head treated
with alendronate. J Arthroplasty. 2009; 24(7):1057-62. PMID: 18757175.
DOI: 10.1016/j.arth.2008.07.011. View

2.
Weinstein R . Apoptosis of osteocytes in glucocorticoid-induced osteonecrosis of the hip.
J Clin Endocrinol Metab. 2000; 85(8):2907-12. PMID: 10946902. View
"""


# --- section headings ------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_headings_with_counts_open_their_sections(newline: str) -> None:
    references = REFERENCES_TWO.replace("References", "References (2)", 1)
    record = parse_one(page("Publisher Elsevier\n", CITING_TWO + references), newline=newline)
    # The abstract stops at "Citing Articles (2)" instead of swallowing the rest.
    assert record.abstract == "Zoledronic acid did not prevent collapse in early osteonecrosis."
    assert [work.pmid for work in record.cited_by] == ["38172990", "36710868"]
    assert [work.pmid for work in record.references] == ["18757175", "10946902"]
    assert record.warnings == []


def test_citing_title_spanning_lines_and_ahead_of_print_citation() -> None:
    record = parse_one(page(body=CITING_TWO))
    first, second = record.cited_by
    assert first.title == (
        "Bisphosphonates for osteonecrosis of the femoral head: a meta-analysis of "
        "randomized controlled trials"
    )
    assert (first.journal, first.volume, first.issue, first.pages) == (
        "J Orthop Surg Res",
        "19",
        "1",
        "30",
    )
    # "PeerJ. 2024;": no volume yet; the citation is not mistaken for part of the title.
    assert second == WorkRecord(
        raw_text="Bone-targeted therapy in osteonecrosis. Ma M, Cui G PeerJ. 2024;",
        authors="Ma M, Cui G",
        title="Bone-targeted therapy in osteonecrosis",
        journal="PeerJ",
        year=2024,
        pmid="36710868",
        doi="10.7717/peerj.14677",
    )


@pytest.mark.parametrize(
    "citing",
    ["Citing Articles (0)\n\n", "Citing Articles\n\nNo citing articles found.\n\n", ""],
    ids=["count-0", "placeholder", "missing"],
)
def test_no_citing_articles(citing: str) -> None:
    record = parse_one(page(body=citing + REFERENCES_TWO))
    assert record.cited_by == []
    assert len(record.references) == 2
    assert record.abstract == "Zoledronic acid did not prevent collapse in early osteonecrosis."
    assert record.warnings == []


def test_no_references_placeholder_is_not_a_reference() -> None:
    record = parse_one(page(body="References\n\nNo references available.\n"))
    assert record.references == []
    assert record.warnings == []


def test_heading_count_larger_than_what_was_read_warns_of_truncation() -> None:
    body = CITING_TWO.replace("Citing Articles (2)", "Citing Articles (3)")
    record = parse_one(page(body=body))
    assert len(record.cited_by) == 2
    assert record.warnings == [
        "line 15: the heading announces 3 citing article(s) but 2 were read (truncated file?)"
    ]


# --- references ------------------------------------------------------------------------


def test_multiline_numbered_references() -> None:
    first, second = parse_one(page(body=REFERENCES_TWO)).references
    assert first.title == (
        "Ten-year follow-up of avascular necrosis of femoral head treated with alendronate"
    )
    assert (first.journal, first.year, first.pages) == ("J Arthroplasty", 2009, "1057-62")
    assert first.doi == "10.1016/j.arth.2008.07.011"
    assert second.journal == "J Clin Endocrinol Metab"
    assert second.pmid == "10946902"


def test_unnumbered_references_separated_by_blank_lines() -> None:
    body = (
        "References\n"
        "Pepke W, Kasten P . Core decompression and autologous bone marrow concentrate.\n"
        "Orthop Rev (Pavia). 2016; 8(1):6162. PMC: 4821226. View\n\n"
        "Salmenniemi U, Itala-Remes M . Good responses but high TRM after MSC therapy for "
        "GvHD. Bone Marrow Transplant. 2016; 52(4):606-608. DOI: 10.1038/bmt.2016.317. View\n"
    )
    first, second = parse_one(page(body=body)).references
    assert first.title == "Core decompression and autologous bone marrow concentrate"
    assert (first.journal, first.pmcid) == ("Orthop Rev (Pavia)", "PMC4821226")
    assert second.authors == "Salmenniemi U, Itala-Remes M"
    assert second.doi == "10.1038/bmt.2016.317"


def test_unnumbered_references_one_per_line() -> None:
    body = (
        "References\n"
        "Doe J . First study. Lancet. 2012; 379:1-5. PMID: 22000001.\n"
        "Roe R . Second study. BMJ. 2013; 346:f1.\n"
        "Poe P . Third study with a title\n"
        "wrapped onto two lines. JAMA. 2014; 311:10-9.\n"
    )
    works = parse_one(page(body=body)).references
    assert [(work.title, work.year) for work in works] == [
        ("First study", 2012),
        ("Second study", 2013),
        ("Third study with a title wrapped onto two lines", 2014),
    ]


def test_references_with_pmid_only_or_a_doi_link() -> None:
    body = (
        "References\n1.\n"
        "Doe J . A trial. Lancet. 2012; 379:1-5. PMID: 22000001 View\n2.\n"
        "Roe R . A cohort. Lancet. 2011; 377:100-5. https://doi.org/10.1016/S0140-6736(11)60001-1 "
        "View\n"
    )
    first, second = parse_one(page(body=body)).references
    assert (first.pmid, first.doi, first.pages) == ("22000001", "", "1-5")
    assert second.doi == "10.1016/s0140-6736(11)60001-1"
    # The link is an identifier, not part of the pages.
    assert (second.volume, second.pages) == ("377", "100-5")


def test_numbered_references_may_skip_numbers() -> None:
    body = (
        "References\n1.\nDoe J . First. BMJ. 2012; 1:1. View\n"
        "2. Doe K . Second. BMJ. 2013; 346:f1. View\n"
        "4.\nDoe L . Fourth. BMJ. 2014; 347:f2. View\n"
    )
    works = parse_one(page(body=body)).references
    assert [work.title for work in works] == ["First", "Second", "Fourth"]


# --- overview fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2020 Oct 21", (2020, 10, 21)),
        ("2020-10-21", (2020, 10, 21)),
        ("21 Oct 2020", (2020, 10, 21)),
        ("October 21, 2020", (2020, 10, 21)),
        ("Sept 3, 2021", (2021, 9, 3)),
        ("Oct 2020", (2020, 10, None)),
        ("10/21/2020", (2020, 10, 21)),
        ("21.10.2020", (2020, 10, 21)),
        ("2020", (2020, None, None)),
    ],
)
def test_dates_written_differently(date: str, expected: tuple[int, int | None, int | None]) -> None:
    record = parse_one(page(f"Date {date}\n"))
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == expected
    assert record.pub_date.text == date
    assert record.warnings == []


def test_day_month_order_that_cannot_be_told_keeps_the_year_only() -> None:
    record = parse_one(page("Date 03/04/2020\n"))
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (2020, None, None)
    assert record.pub_date.precision == DatePrecision.YEAR
    assert record.warnings == [
        "Date: '03/04/2020' reads as day/month or month/day; kept the year only"
    ]


@pytest.mark.parametrize("line", ["Cited by 1,234", "Citations: 1,234", "Times cited 1234"])
def test_citation_count_labels(line: str) -> None:
    record = parse_one(page(f"{line}\n"))
    assert record.citation_count == 1234
    assert record.warnings == []


def test_missing_publisher_and_date_are_left_empty() -> None:
    record = parse_one(page())
    assert record.journal is not None
    assert (record.journal.iso_abbreviation, record.journal.publisher) == ("Bone", "")
    assert record.pub_date.year is None
    assert record.warnings == []


def test_header_without_a_colon() -> None:
    record = parse_one(page().replace("PMID: 31234567", "PMID 31234567", 1))
    assert record.title.startswith("Zoledronic Acid for Early Osteonecrosis")
    assert record.pmid == "31234567"


# --- several and damaged pages -----------------------------------------------------------


def test_several_pages_with_their_own_sections() -> None:
    text = page("Date 2019 Jun\n", CITING_TWO) + page(
        "Date 2018\n", REFERENCES_TWO, pmid="29000001"
    )
    first, second = parse_text(text)
    assert isinstance(first, StudyRecord) and isinstance(second, StudyRecord)
    assert (first.pmid, len(first.cited_by), first.references) == ("31234567", 2, [])
    assert (second.pmid, second.cited_by, len(second.references)) == ("29000001", [], 2)
    assert (second.location.record, second.location.line) == (2, 32)


def test_second_page_without_its_header_is_a_clear_invalid_record() -> None:
    second = page(pmid="29000001").split("\n", 2)[2]  # its header line lost
    items = parse_text(page(body=REFERENCES_TWO) + "\n" + second)
    (item,) = items
    assert isinstance(item, InvalidRecord)
    assert item.reason == (
        "second 'Overview' heading at line 27: two article pages without a "
        "'» Articles » PMID:' header line between them"
    )
    assert (item.location.source, item.location.record, item.location.line) == (
        "page.txt",
        1,
        1,
    )


def test_file_cut_after_the_header_line_says_so() -> None:
    record = parse_one("» Articles » PMID: 31234567\n")
    assert record.pmid == "31234567"
    assert record.warnings == ["page has nothing after its header line (truncated file?)"]


def test_file_cut_inside_a_citing_article() -> None:
    text = page(body=CITING_TWO.split("Ma M, Cui G")[0] + "Ma M, Cui G Pe")
    record = parse_one(text)
    assert [work.pmid for work in record.cited_by] == ["38172990"]
    assert record.warnings == [
        "citing articles: unparsed text 'Bone-targeted therapy in osteonecrosis. Ma M, Cui G Pe'",
        "line 15: the heading announces 2 citing article(s) but 1 were read (truncated file?)",
    ]
