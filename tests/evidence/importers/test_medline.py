from __future__ import annotations

import io

import pytest

from evidence.importers import medline
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    InvalidRecord,
    ParseError,
    StudyRecord,
)


def parse_bytes(data: bytes, source_name: str = "inline.nbib") -> list:
    return list(medline.parse(io.BytesIO(data), source_name=source_name))


def parse_sample(sample_path, name: str) -> list:
    with sample_path(name).open("rb") as stream:
        return list(medline.parse(stream, source_name=name))


# --- biopython_pubmed_result2.txt: 4 PubMed records, wrapped TI/AB/AD -----------------


def test_biopython_result2_records_and_identifiers(sample_path):
    items = parse_sample(sample_path, "biopython_pubmed_result2.txt")

    assert [type(item) for item in items] == [StudyRecord] * 4
    assert [r.pmid for r in items] == ["16403221", "16377612", "14871861", "14630660"]
    assert [r.pmcid for r in items] == ["PMC1373603", "", "", ""]
    assert items[0].doi == "10.1186/1471-2105-7-10"
    assert items[2].doi == "10.1093/bioinformatics/bth078"
    assert items[3].doi == ""  # that record has no AID at all
    # The file starts with a blank line, so the first record starts on line 2.
    assert (items[0].location.record, items[0].location.line) == (1, 2)
    assert items[0].location.source == "biopython_pubmed_result2.txt"
    assert all(r.warnings == [] for r in items)


def test_biopython_result2_continuation_lines_are_joined(sample_path):
    items = parse_sample(sample_path, "biopython_pubmed_result2.txt")

    assert items[1].title == (
        "GenomeDiagram: a python package for the visualization of large-scale genomic data."
    )
    assert items[0].abstract.startswith(
        "BACKGROUND: Benchmarking algorithms in structural bioinformatics often involves "
        "the construction of datasets"
    )
    assert items[0].abstract.endswith("use in structural genomics easier and more principled.")
    assert "  " not in items[0].abstract
    # AD before the first FAU (older records) belongs to the first author; three lines.
    assert items[0].authors[0].affiliations == [
        "Bioinformatics, Institute of Cell and Molecular Science, School of Medicine and "
        "Dentistry, Queen Mary, University of London, London EC1 6BQ, UK. j.a.casbon@qmul.ac.uk"
    ]
    assert items[0].authors[1].affiliations == []


def test_biopython_result2_authors_pair_fau_with_au(sample_path):
    items = parse_sample(sample_path, "biopython_pubmed_result2.txt")

    first = items[0].authors
    assert [(a.last_name, a.fore_name, a.initials) for a in first] == [
        ("Casbon", "James A", "JA"),
        ("Crooks", "Gavin E", "GE"),
        # AU says "Saqi MA": PubMed's initials win over the three given-name letters.
        ("Saqi", "Mansoor A S", "MA"),
    ]
    assert [(a.last_name, a.initials) for a in items[2].authors] == [
        ("de Hoon", "MJ"),
        ("Imoto", "S"),
        ("Nolan", "J"),
        ("Miyano", "S"),
    ]


def test_biopython_result2_dates_journal_mesh_sections(sample_path):
    items = parse_sample(sample_path, "biopython_pubmed_result2.txt")

    assert (items[0].pub_date.year, items[0].pub_date.month) == (2006, None)
    date = items[1].pub_date
    assert (date.year, date.month, date.day, date.text) == (2006, 3, 1, "2006 Mar 1")
    assert items[1].pages == "616-7"
    assert (items[1].volume, items[1].issue) == ("22", "5")
    assert items[0].journal.eissn == "1471-2105"
    assert items[0].journal.issn == ""
    assert items[1].journal.issn == "1367-4803"
    assert items[1].journal.title == "Bioinformatics (Oxford, England)"
    assert items[1].journal.iso_abbreviation == "Bioinformatics"
    assert items[1].journal.nlm_id == "9808944"

    headings = {h.descriptor: h for h in items[3].mesh_headings}
    storage = headings["Information Storage and Retrieval"]
    assert storage.is_major is False
    assert [(q.name, q.is_major) for q in storage.qualifiers] == [
        ("methods", True),
        ("standards", True),
    ]
    assert headings["Software"].is_major is True
    assert headings["Software"].qualifiers == []
    assert [p.name for p in items[3].publication_types][:2] == [
        "Comparative Study",
        "Evaluation Studies",
    ]

    assert [s.label for s in items[0].abstract_sections] == ["BACKGROUND", "RESULTS", "CONCLUSION"]
    assert [s.category for s in items[0].abstract_sections] == [
        "BACKGROUND",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert items[0].abstract_sections[1].text.startswith("We have designed a set of python")
    assert [s.label for s in items[1].abstract_sections] == [
        "SUMMARY",
        "AVAILABILITY",
        "SUPPLEMENTARY INFORMATION",
    ]
    # One label mid-text ("AVAILABILITY:") is not a structured abstract.
    assert items[3].abstract_sections == []


# --- zotero_medline_25744111.nbib: LID doi + pii, OT keywords -------------------------


def test_zotero_25744111(sample_path):
    (record,) = parse_sample(sample_path, "zotero_medline_25744111.nbib")

    assert record.pmid == "25744111"
    assert record.doi == "10.1016/j.puhe.2015.01.018"
    assert record.title == (
        "Effectiveness of public health practices against shaken baby syndrome/abusive "
        "head trauma in Japan."
    )
    assert record.keywords == [
        "Abusive head trauma",
        "Crying",
        "Intervention",
        "Japan",
        "Public health",
        "Shaken baby syndrome",
    ]
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (2015, 5, None)
    assert (record.journal.eissn, record.journal.issn) == ("1476-5616", "0033-3506")
    assert record.language == "eng"
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("Fujiwara", "T", "T")
    ]
    assert (
        record.authors[0]
        .affiliations[0]
        .endswith("Okura, Setagaya-ku, Tokyo, Japan. Electronic address: fujiwara-tk@ncchd.go.jp.")
    )
    assert [s.label for s in record.abstract_sections] == [
        "OBJECTIVES",
        "STUDY DESIGN",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert record.abstract_sections[1].text == "Cross-sectional study."
    assert record.abstract.startswith("OBJECTIVES: Previous studies")
    caregivers = next(h for h in record.mesh_headings if h.descriptor == "Caregivers")
    assert [q.name for q in caregivers.qualifiers] == [
        "education",
        "psychology",
        "statistics & numerical data",
    ]
    assert len(record.mesh_headings) == 23
    assert record.warnings == []


# --- zotero_medline_eric_no_pmid.nbib: ERIC records in MEDLINE tags, no PMID -----------


def test_eric_records_without_pmid(sample_path):
    items = parse_sample(sample_path, "zotero_medline_eric_no_pmid.nbib")

    assert [type(item) for item in items] == [StudyRecord] * 3
    assert [r.pmid for r in items] == ["", "", ""]
    assert [r.location.line for r in items] == [2, 29, 59]
    assert items[0].title.startswith("Educational Test Approaches: The Suitability")
    # ERIC writes full names in AU and no FAU.
    assert [(a.last_name, a.fore_name, a.initials) for a in items[0].authors] == [
        ("van Groen", "Maaike M.", "MM"),
        ("Eggen", "Theo J. H. M.", "TJHM"),
    ]
    assert items[0].journal.eissn == "2375-5636"  # "ISSN - EISSN-2375-5636"
    assert len(items[0].keywords) == 8
    assert len(items[1].keywords) == 13
    # A bare dx.doi.org URL in AID is the DOI.
    assert items[1].doi == "10.1186/s40468-019-0086-7"
    assert items[1].pub_date.year == 2019  # "DP  - Article 10 2019"
    assert items[1].pub_date.text == "Article 10 2019"
    # Mixed-case labels ("Background:") are not PubMed's structured abstract labels.
    assert items[1].abstract_sections == []
    assert [a.last_name for a in items[2].authors] == ["Moore", "Sanchez", "San Pedro"]


# --- inline edge cases -----------------------------------------------------------------


RECORD = b"""PMID- 111
TI  - First title
      continued.
DP  - 2015 Mar-Apr
AU  - Smith J
"""


def test_empty_file_is_a_parse_error():
    with pytest.raises(ParseError, match="empty file") as raised:
        parse_bytes(b"")
    assert raised.value.location.source == "inline.nbib"
    with pytest.raises(ParseError):
        parse_bytes(b"\n  \r\n")


def test_garbage_is_a_parse_error_naming_the_format():
    with pytest.raises(ParseError, match=r"no MEDLINE records found .*PMID- 123") as raised:
        parse_bytes(b"Dear colleague,\nplease find attached the list.\n")
    assert raised.value.location.line == 1


def test_ris_file_is_not_mistaken_for_medline():
    with pytest.raises(ParseError, match="no MEDLINE records"):
        parse_bytes(b"TY  - JOUR\nTI  - A title\nAU  - Smith, J\nER  - \n")


def test_binary_input_is_a_parse_error():
    with pytest.raises(ParseError, match="binary"):
        parse_bytes(b"PMID- 1\x00\x00\x00")


def test_crlf_and_continuation():
    (record,) = parse_bytes(RECORD.replace(b"\n", b"\r\n"))
    assert record.title == "First title continued."
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.text) == (
        2015,
        3,
        "2015 Mar-Apr",
    )
    assert [(a.last_name, a.initials, a.fore_name) for a in record.authors] == [("Smith", "J", "")]


def test_bad_doi_is_a_warning_and_dropped():
    data = RECORD + b"LID - not-a-doi [doi]\nAID - 10.1000/good [doi]\n"
    (record,) = parse_bytes(data)
    # The invalid LID is reported and the valid AID still used.
    assert record.doi == "10.1000/good"
    assert record.warnings == ["LID: not a DOI: 'not-a-doi'; value dropped"]


def test_bad_pmid_is_a_warning_and_record_kept_by_title():
    (record,) = parse_bytes(b"PMID- abc\nTI  - Kept by its title\n")
    assert record.pmid == ""
    assert record.title == "Kept by its title"
    assert record.warnings == ["PMID: not a PubMed ID: 'abc'; value dropped"]


def test_record_without_pmid_or_title_is_invalid_and_parsing_continues():
    data = b"OWN - NLM\nAU  - Nobody X\n\n" + RECORD
    items = parse_bytes(data)
    assert isinstance(items[0], InvalidRecord)
    assert "neither a PMID, a title (TI/BTI/TT) nor an abstract (AB)" in items[0].reason
    assert (items[0].location.record, items[0].location.line) == (1, 1)
    assert isinstance(items[1], StudyRecord)
    assert (items[1].pmid, items[1].location.record, items[1].location.line) == ("111", 2, 4)


def test_missing_blank_line_between_records_still_splits_on_pmid():
    items = parse_bytes(RECORD + b"PMID- 222\nTI  - Second\n")
    assert [r.pmid for r in items] == ["111", "222"]
    assert items[1].location.line == 6


def test_cp1252_bytes_decode_with_a_warning():
    data = "PMID- 5\nTI  - Caf\u00e9 na\u00efve \u2013 study\n".encode("cp1252")
    (record,) = parse_bytes(data, source_name="win.nbib")
    assert record.title == "Caf\u00e9 na\u00efve \u2013 study"
    assert len(record.warnings) == 1
    assert "win.nbib" in record.warnings[0]
    assert "Windows-1252" in record.warnings[0]


def test_implausible_year_is_dropped_with_a_warning():
    (record,) = parse_bytes(b"PMID- 5\nTI  - T\nDP  - 0201 Jan\n")
    assert record.pub_date.year is None
    assert record.pub_date.text == "0201 Jan"
    assert record.warnings == ["DP: year 201 outside 1000-2100; dropped"]


def test_collective_author_orcid_and_affiliation_order():
    data = (
        b"PMID- 7\nTI  - T\n"
        b"FAU - Doe, Jane Mary\nAU  - Doe JM\n"
        b"AD  - Dept A, Somewhere.\nAD  - Dept B, Elsewhere.\n"
        b"AUID- ORCID: 0000-0002-1825-0097\n"
        b"FAU - Roe, R\nAU  - Roe R\nAUID- ORCID: 12\n"
        b"CN  - Canadian Respiratory Research Network\n"
    )
    (record,) = parse_bytes(data)
    jane, roe, group = record.authors
    assert (jane.last_name, jane.fore_name, jane.initials) == ("Doe", "Jane Mary", "JM")
    assert jane.affiliations == ["Dept A, Somewhere.", "Dept B, Elsewhere."]
    assert jane.orcid == "0000-0002-1825-0097"
    assert roe.orcid == ""
    assert record.warnings == ["AUID (line 10): not an ORCID iD: '12'; value dropped"]
    assert group.collective_name == "Canadian Respiratory Research Network"
    assert group.last_name == ""


def test_book_title_fallback_and_unindented_continuation_warning():
    (record,) = parse_bytes(b"PMID- 9\nBTI - Endocrinology:\nAn Integrated Approach\n")
    assert record.title == "Endocrinology: An Integrated Approach"
    assert record.warnings == ["line 3: text without a tag or indentation joined to BTI"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015 Mar 5", (2015, 3, 5)),
        ("2015 Mar-Apr", (2015, 3, None)),
        ("2015 Spring", (2015, None, None)),
        ("2015", (2015, None, None)),
        ("1998 Dec-1999 Jan", (1998, 12, None)),
        ("20060110", (2006, 1, 10)),
        ("2019/03/05/", (2019, 3, 5)),
        ("2019///", (2019, None, None)),
        ("2019-03", (2019, 3, None)),
        ("/2019/", (2019, None, None)),
        ("2019/10//undefined", (2019, 10, None)),
        ("2019/02/30", (2019, 2, None)),  # no 30 February: keep the month only
        ("2019/13/01", (2019, None, None)),
    ],
)
def test_parse_date(text, expected):
    warnings: list[str] = []
    date = medline.parse_date(text, field="DP", warnings=warnings)
    assert (date.year, date.month, date.day) == expected
    assert date.text == text
    assert warnings == []


def test_parse_date_without_year_warns():
    warnings: list[str] = []
    date = medline.parse_date("Spring", field="DA", warnings=warnings)
    assert date.year is None
    assert warnings == ["DA: no year in 'Spring'"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Casbon, James A", ("Casbon", "James A", "JA", "")),
        ("Baldwin,S.A.", ("Baldwin", "S.A.", "SA", "")),
        ("Casbon JA", ("Casbon", "", "JA", "")),
        ("Eloubeidi M.A.", ("Eloubeidi", "", "MA", "")),
        ("de Hoon MJ", ("de Hoon", "", "MJ", "")),
        ("Ludwig van Beethoven", ("van Beethoven", "Ludwig", "L", "")),
        ("Dupont, Jean-Pierre", ("Dupont", "Jean-Pierre", "JP", "")),
        ("King, Martin Luther, Jr.", ("King", "Martin Luther", "ML", "")),
        (
            "Emergency Cardiovascular Care Committee",
            ("", "", "", "Emergency Cardiovascular Care Committee"),
        ),
    ],
)
def test_author_from_name(text, expected):
    author = medline.author_from_name(text)
    assert (author.last_name, author.fore_name, author.initials, author.collective_name) == (
        expected
    )


def test_author_from_empty_name_is_none():
    assert medline.author_from_name(" ; ") is None


def test_a_record_with_only_an_abstract_is_kept_for_curation():
    # What EviDB's MEDLINE export writes for an imported evidence summary.
    (record,) = parse_bytes(b"OWN - NLM\nAB  - Background: a trial of drug A.\n")

    assert isinstance(record, StudyRecord)
    assert record.abstract == "Background: a trial of drug A."
    assert record.warnings == [NEEDS_CURATION_WARNING]
