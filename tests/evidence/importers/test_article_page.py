from __future__ import annotations

import io

import pytest

from evidence.importers import article_page
from evidence.importers.records import (
    DatePrecision,
    InvalidRecord,
    ParseError,
    StudyRecord,
    WorkRecord,
)

SEED = "002_aa5c579476d7ef13.txt"


def parse_text(text: str, name: str = "page.txt") -> list:
    return list(article_page.parse(io.BytesIO(text.encode("utf-8")), source_name=name))


@pytest.fixture
def seed_record(seed_path) -> StudyRecord:
    path = seed_path(SEED)
    with path.open("rb") as stream:
        items = list(article_page.parse(stream, source_name=str(path)))
    assert len(items) == 1
    assert isinstance(items[0], StudyRecord)
    return items[0]


def test_seed_bibliographic_fields(seed_record: StudyRecord) -> None:
    assert seed_record.pmid == "33081809"
    assert seed_record.title == "Mesenchymal Stromal Cells for Osteonecrosis"
    assert seed_record.journal is not None
    assert seed_record.journal.iso_abbreviation == "J Transl Med"
    assert seed_record.journal.publisher == "Biomed Central"
    assert (seed_record.pub_date.year, seed_record.pub_date.month, seed_record.pub_date.day) == (
        2020,
        10,
        21,
    )
    assert seed_record.pub_date.precision == DatePrecision.DAY
    assert seed_record.citation_count == 11
    # "Soon will be listed here." is a placeholder, not an author or affiliation.
    assert seed_record.authors == []
    assert seed_record.location.record == 1
    assert seed_record.location.line == 1
    assert seed_record.location.source.endswith(SEED)
    assert seed_record.warnings == []


def test_seed_abstract_is_the_paragraph_before_citing_articles(seed_record: StudyRecord) -> None:
    assert seed_record.abstract.startswith("Osteonecrosis (ON) is an acquired debilitating")
    assert seed_record.abstract.endswith("might contribute to inconsistent results.")
    assert "Citing Articles" not in seed_record.abstract
    assert seed_record.abstract_sections == []


def test_seed_citing_articles(seed_record: StudyRecord) -> None:
    assert [work.pmid for work in seed_record.cited_by] == [
        "38745949",
        "38172990",
        "37012358",
        "36710868",
        "36582244",
    ]
    assert [work.pmcid for work in seed_record.cited_by] == [
        "PMC11091469",
        "PMC10765848",
        "PMC10070412",
        "PMC9881470",
        "PMC9792770",
    ]
    assert [work.doi for work in seed_record.cited_by] == [
        "10.3389/fendo.2024.1344917",
        "10.1186/s13018-023-04513-x",
        "10.1038/s42003-023-04661-0",
        "10.7717/peerj.14677",
        "10.3389/fimmu.2022.1064245",
    ]
    first = seed_record.cited_by[0]
    assert first == WorkRecord(
        raw_text=(
            "Unraveling the genetic basis of the causal association between inflammatory "
            "cytokines and osteonecrosis. Lu Y, Pei Y, Gao Y, Zhao F, Wang L, Zhang Y Front "
            "Endocrinol (Lausanne). 2024; 15:1344917."
        ),
        authors="Lu Y, Pei Y, Gao Y, Zhao F, Wang L, Zhang Y",
        title=(
            "Unraveling the genetic basis of the causal association between inflammatory "
            "cytokines and osteonecrosis"
        ),
        journal="Front Endocrinol (Lausanne)",
        year=2024,
        volume="15",
        issue="",
        pages="1344917",
        pmid="38745949",
        pmcid="PMC11091469",
        doi="10.3389/fendo.2024.1344917",
    )
    # The last author's initials end the author list even when the journal starts with
    # a capital letter that looks like an initial ("Liang Z J Orthop Surg Res").
    second = seed_record.cited_by[1]
    assert second.authors == "Li Y, Ma X, Dong B, Li Y, Liang Z"
    assert second.journal == "J Orthop Surg Res"
    assert (second.volume, second.issue, second.pages) == ("19", "1", "30")
    assert seed_record.cited_by[3].journal == "PeerJ"
    assert seed_record.cited_by[3].pages == "e14677"


def test_seed_references(seed_record: StudyRecord) -> None:
    assert [work.doi for work in seed_record.references] == [
        "10.4081/or.2016.6162",
        "10.1038/bmt.2016.317",
        "10.1093/rheumatology/kel302",
        "10.1210/jcem.85.8.6714",
        "10.1038/bmt.2017.35",
    ]
    first = seed_record.references[0]
    assert first.pmcid == "PMC4821226"
    assert first.year == 2016
    assert first.journal == "Orthop Rev (Pavia)"
    assert (first.volume, first.issue, first.pages) == ("8", "1", "6162")
    assert first.authors == "Pepke W, Kasten P, Beckmann N, Janicki P, Egermann M"
    assert first.title == (
        "Core Decompression and Autologous Bone Marrow Concentrate for Treatment of "
        "Femoral Head Osteonecrosis: A Randomized Prospective Study"
    )
    assert first.raw_text.startswith("Pepke W, Kasten P")
    assert first.raw_text.endswith("DOI: 10.4081/or.2016.6162.")
    assert not any(work.raw_text.endswith("View") for work in seed_record.references)
    assert [work.journal for work in seed_record.references[1:]] == [
        "Bone Marrow Transplant",
        "Rheumatology (Oxford)",
        "J Clin Endocrinol Metab",
        "Bone Marrow Transplant",
    ]
    assert [work.year for work in seed_record.references] == [2016, 2016, 2006, 2000, 2017]
    assert seed_record.references[4].authors.startswith("Dotoli G, De Santis G")
    assert "de Lima Prata K" in seed_record.references[4].authors
    assert all(work.pmid == "" for work in seed_record.references)


HAND_WRITTEN = """\
» Articles » PMID: 12345678

Bisphosphonates and Femoral Head Collapse: Is It Worth It?

Overview
Journal Bone Joint J
Publisher British Editorial Society
Date 2019 Mar
PMID 12345678
DOI https://doi.org/10.1302/0301-620X.101B3.BJJ-2018-1234.R1
Citations 1,204
Authors
Smith AB, de la Cruz M, O'Brien P
Affiliations
Department of Orthopaedics, Somewhere University.
Abstract

BACKGROUND: Collapse is common.

METHODS: We reviewed 40 hips. RESULTS: Fewer collapsed.

Citing Articles

A follow-up study of bisphosphonates.

Jones K, Lee H, et al Bone. 2021 Jan; 142:115678.

PMID: 33000001 PMC: 7777777. DOI: 10.1016/j.bone.2020.115678.

Similar Articles
Something unrelated that must not become a citing article.

References
1. Agarwala S, Shah S . Ten-year follow-up of avascular necrosis of femoral head treated \
with alendronate? A pilot study. J Arthroplasty. 2009; 24(7):1057-62. PMID: 18757175. \
DOI: 10.1016/j.arth.2008.07.011. View
2.
Wang C, Zhang Y . Osteonecrosis. Part I. Risk factors. Proc. Natl. Acad. Sci. U S A. 2010; \
107:12345-50. View
3.
Garbage without a year View
"""


def test_hand_written_page_with_other_sections_and_fields() -> None:
    (record,) = parse_text(HAND_WRITTEN)
    assert record.title == "Bisphosphonates and Femoral Head Collapse: Is It Worth It?"
    assert record.doi == "10.1302/0301-620x.101b3.bjj-2018-1234.r1"
    assert record.citation_count == 1204
    assert record.pub_date.precision == DatePrecision.MONTH
    assert [(a.last_name, a.initials) for a in record.authors] == [
        ("Smith", "AB"),
        ("de la Cruz", "M"),
        ("O'Brien", "P"),
    ]
    # Three authors, one affiliation, no link between them: not guessed.
    assert all(author.affiliations == [] for author in record.authors)
    assert any("affiliation" in warning for warning in record.warnings)
    assert [section.category for section in record.abstract_sections] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
    ]
    (citing,) = record.cited_by
    assert citing.title == "A follow-up study of bisphosphonates"
    assert citing.authors == "Jones K, Lee H, et al"
    assert citing.journal == "Bone"
    assert (citing.year, citing.volume, citing.pages) == (2021, "142", "115678")
    assert (citing.pmid, citing.pmcid) == ("33000001", "PMC7777777")

    first, second, third = record.references
    assert first.title == (
        "Ten-year follow-up of avascular necrosis of femoral head treated with alendronate? "
        "A pilot study"
    )
    assert first.journal == "J Arthroplasty"
    assert first.pmid == "18757175"
    assert second.title == "Osteonecrosis. Part I. Risk factors"
    assert second.journal == "Proc. Natl. Acad. Sci. U S A"
    assert (second.volume, second.issue, second.pages) == ("107", "", "12345-50")
    assert third.year is None
    assert third.raw_text == "Garbage without a year"
    assert any("reference without a year" in warning for warning in record.warnings)


def test_several_pages_in_one_file_are_separate_records() -> None:
    text = (
        "» Articles » PMID: 111\n\nFirst Title\n\nOverview\nDate 2001\n\n"
        "» Articles » PMID: 222\n\nSecond Title\n\nAbstract\n\nText two.\n"
    )
    first, second = parse_text(text)
    assert (first.pmid, first.title, first.pub_date.year) == ("111", "First Title", 2001)
    assert (second.pmid, second.title, second.abstract) == ("222", "Second Title", "Text two.")
    assert (first.location.record, first.location.line) == (1, 1)
    assert (second.location.record, second.location.line) == (2, 8)


def test_page_without_title_or_pmid_is_invalid_but_not_fatal() -> None:
    items = parse_text("Abstract\n\nOnly an abstract.\n", name="bad.txt")
    assert len(items) == 1
    assert isinstance(items[0], InvalidRecord)
    assert "neither a title nor a PMID" in items[0].reason
    assert items[0].location.source == "bad.txt"


def test_invalid_identifiers_become_warnings() -> None:
    (record,) = parse_text(
        "» Articles » PMID: 0\n\nTitle\n\nOverview\nDOI not-a-doi\n\n"
        "Citing Articles\n\nA title.\n\nX Y Lancet. 2020; 1:1.\n\nPMID: 77 DOI: nonsense.\n"
    )
    assert record.pmid == ""
    assert record.doi == ""
    assert record.cited_by[0].pmid == "77"
    assert record.cited_by[0].doi == ""
    assert any("PMID dropped" in warning for warning in record.warnings)
    assert any("DOI dropped" in warning and "nonsense" in warning for warning in record.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"Just some prose.\nWith two lines.\n", "not an article page"),
        (b"\x00\x01binary", "binary content"),
    ],
)
def test_unreadable_files_raise_parse_error(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        list(article_page.parse(io.BytesIO(content), source_name="x.txt"))
    assert info.value.location.source == "x.txt"


def test_parse_reference_keeps_parenthesised_journal_and_question_title() -> None:
    work = article_page.parse_reference(
        "Doe J . Does it work? A trial. Orthop Rev (Pavia). 2016; 8(1):6162. PMC: 4821226. View"
    )
    assert work.title == "Does it work? A trial"
    assert work.journal == "Orthop Rev (Pavia)"
    assert work.pmcid == "PMC4821226"
    assert work.raw_text.endswith("PMC: 4821226.")


def test_parse_citation_line_without_recognisable_authors() -> None:
    work = article_page.parse_citation_line("Front Immunol. 2022; 13:1064245.")
    assert work.authors == ""
    assert work.journal == "Front Immunol"
    assert work.year == 2022
