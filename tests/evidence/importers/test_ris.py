from __future__ import annotations

import io

import pytest

from evidence.importers import ris
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    InvalidRecord,
    ParseError,
    StudyRecord,
)


def parse_bytes(data: bytes, source_name: str = "inline.ris") -> list:
    return list(ris.parse(io.BytesIO(data), source_name=source_name))


def parse_sample(sample_path, name: str) -> list:
    with sample_path(name).open("rb") as stream:
        return list(ris.parse(stream, source_name=name))


# --- samples -----------------------------------------------------------------------------


def test_asreview_pubmed_zotero(sample_path):
    items = parse_sample(sample_path, "asreview_pubmed_zotero.ris")

    assert [type(item) for item in items] == [StudyRecord] * 6
    assert [r.location.line for r in items] == [1, 26, 50, 81, 106, 129]
    first, second = items[0], items[1]
    assert first.title.startswith("The importance of cognitive flexibility and flexibility")
    assert first.doi == "10.5114/pg.2018.81081"
    assert [(a.last_name, a.fore_name, a.initials) for a in first.authors] == [
        ("Rudnik", "Agata", "A"),
        ("Piotrowicz", "Grazyna", "G"),
        ("Basinska", "Malgorzata A.", "MA"),
        ("Rashedi", "Vahid", "V"),
    ]
    assert first.journal.title == "Przeglad gastroenterologiczny"  # T2
    assert first.journal.iso_abbreviation == "Prz Gastroenterol"  # J2
    # "SN  - 1895-5770 1895-5770": the same ISSN twice is one ISSN.
    assert (first.journal.issn, first.journal.eissn) == ("1895-5770", "")
    assert first.pages == "121-128"
    assert (first.volume, first.issue, first.language) == ("14", "2", "eng")
    assert first.abstract.startswith("Introduction: There are studies demonstrating")
    assert len(first.keywords) == 5
    # "DA  - 2019/10//undefined" adds the month to "PY  - 2019".
    assert (second.pub_date.year, second.pub_date.month, second.pub_date.day) == (2019, 10, None)
    assert second.pub_date.text == "2019/10//undefined"
    assert (second.journal.issn, second.journal.eissn) == ("1123-6337", "1128-045X")
    assert [s.label for s in second.abstract_sections] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert items[3].pub_date.day == 24  # "2019/07/24/"
    assert items[2].pages == "e16881"  # SP without EP
    assert items[2].doi == "10.1097/md.0000000000016881"
    assert all(r.warnings == [] for r in items)


def test_asreview_embase(sample_path):
    items = parse_sample(sample_path, "asreview_embase.ris")

    assert [type(item) for item in items] == [StudyRecord] * 6
    # UTF-8 BOM before the first TY: the first record is still found on line 1.
    assert items[0].location.line == 1
    assert items[0].title == (
        "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound"
    )
    assert [r.doi for r in items] == [
        "10.4103/2303-9027.138783",
        "10.1002/cncr.20369",
        "10.1016/j.ijscr.2018.11.060",
        "10.1016/j.clp.2018.07.012",
        "10.3748/wjg.v17.i1.130",
        "10.1089/cren.2017.0016",
    ]
    # Embase keeps the MEDLINE PMID in C5; records only in Embase have none.
    assert [r.pmid for r in items] == ["", "15368318", "", "30396417", "21218094", ""]
    assert [len(r.keywords) for r in items] == [22, 27, 45, 39, 19, 38]
    assert sum(len(r.keywords) for r in items) == 190
    assert [(a.last_name, a.initials) for a in items[1].authors][:3] == [
        ("Eloubeidi", "MA"),
        ("Cohn", "M"),
        ("Cerfolio", "RJ"),
    ]
    third = items[2]
    assert third.journal.title == "International Journal of Surgery Case Reports"  # JF
    assert third.journal.iso_abbreviation == "Int. J. Surg. Case Rep."  # JO
    assert (third.pub_date.year, third.pages, third.volume) == (2019, "83-86", "54")
    assert (items[3].journal.issn, items[3].journal.eissn) == ("0095-5108", "1557-9840")
    assert items[1].abstract.startswith("BACKGROUND. The management of foregut duplication")
    assert items[0].language == "English"


def test_rispy_utf_chars(sample_path):
    (record,) = parse_sample(sample_path, "rispy_example_utf_chars.ris")

    # No TI/T1: the Cyrillic short title stands in, and the record says so.
    assert record.title == (
        "Состояние рецепторного аппарата эндометрия и метаболизм эстрогенов при "
        "гиперплазиях эндометрия в позднем репродуктивном периоде"
    )
    assert record.warnings == ["no TI/T1 title: title taken from ST"]
    # The abstract's second line (no tag) continues it.
    assert record.abstract.endswith(
        "периоде The state of the receptor apparatus of the endometrium and estrogen "
        "metabolism in endometrial hyperplasia in the late reproductive period"
    )
    assert [(a.last_name, a.initials) for a in record.authors] == [
        ("Dobrokhotova", "YE"),
        ("Yusupova", "RO"),
        ("Ozerova", "RI"),
        ("Fayzullin", "LZ"),
        ("Karnaukhov", "VN"),
    ]
    assert record.journal.title == "Gynecology, Obstetrics and Perinatology"
    assert (record.volume, record.issue, record.pages) == ("8", "3", "52-57")  # VO, IS, SP/EP
    assert record.pub_date.year == 2009


def test_reference_manager_baldwin(sample_path):
    (record,) = parse_sample(sample_path, "zotero_ris_baldwin1996.ris")

    assert record.title == "Blood-brain barrier breach following cortical contusion in the rat"
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("Baldwin", "S.A.", "SA"),
        ("Fugaccia", "I.", "I"),
        ("Brown", "D.R.", "DR"),
        ("Brown", "L.V.", "LV"),
        ("Scheff", "S.W.", "SW"),
    ]
    assert record.journal.title == "J.Neurosurg."
    assert (record.pub_date.year, record.pub_date.text) == (1996, "1996")
    assert (record.volume, record.pages) == ("85", "476-481")
    assert len(record.keywords) == 6
    assert record.abstract.startswith("Adult Fisher 344 rats were subjected")
    assert record.warnings == []


def test_crlf_scopus(sample_path):
    first, second = parse_sample(sample_path, "zotero_ris_crlf.ris")

    assert isinstance(first, StudyRecord)
    assert first.title.startswith("Using focus groups to adapt ethnically appropriate")
    assert first.title.endswith("for men at high risk")  # no stray "\r"
    assert first.doi == "10.1016/s0027-9684(15)31340-7"
    assert [a.last_name for a in first.authors][:2] == ["Bryan", "Wetmore-Arkader"]
    assert (first.pub_date.year, first.pages) == (2008, "674-682")
    # The second record (a cited report) has only T2 and "PY  - 0000": kept, with T2 as
    # its title, no year, and a warning asking for a check.
    assert isinstance(second, StudyRecord)
    assert (second.location.record, second.location.line) == (2, 20)
    assert second.title == "Prostate Cancer Mortality Statistics 2015"
    assert second.pub_date.year is None
    assert any("T2 taken as the title" in warning for warning in second.warnings)


def test_record_with_nothing_to_name_it_is_invalid():
    (item,) = parse_bytes(b"TY  - JOUR\nPY  - 2019\nER  - \n")
    assert isinstance(item, InvalidRecord)
    assert "neither a title" in item.reason


def test_a_record_with_only_an_abstract_is_kept_for_curation():
    # What EviDB's RIS export writes for an imported evidence summary.
    (record,) = parse_bytes(b"TY  - JOUR\nAB  - Background: a trial of drug A.\nER  - \n")

    assert isinstance(record, StudyRecord)
    assert record.abstract == "Background: a trial of drug A."
    assert NEEDS_CURATION_WARNING in record.warnings


# --- inline edge cases -------------------------------------------------------------------

RECORD = b"TY  - JOUR\nTI  - A title\nAU  - Smith, John\nPY  - 2019\n"


def test_empty_file_is_a_parse_error():
    with pytest.raises(ParseError, match="empty file"):
        parse_bytes(b"")


def test_garbage_is_a_parse_error():
    with pytest.raises(ParseError, match=r"no RIS records found .*TY  - JOUR") as raised:
        parse_bytes(b"\n\nThis is not a reference list.\n")
    assert raised.value.location.line == 3
    with pytest.raises(ParseError, match="no RIS records"):
        parse_bytes(b"PMID- 123\nTI  - MEDLINE, not RIS\n")


def test_missing_er_at_end_of_file_still_parsed():
    (record,) = parse_bytes(RECORD)
    assert record.title == "A title"
    assert record.pub_date.year == 2019
    assert record.warnings == ["record not closed by 'ER  -' at the end of the file"]


def test_next_ty_without_er_starts_a_new_record():
    items = parse_bytes(RECORD + b"TY  - JOUR\nTI  - Second\nER  - \n")
    assert [r.title for r in items] == ["A title", "Second"]
    assert items[0].warnings == ["record not closed by 'ER  -' before the next 'TY' (line 5)"]
    assert items[1].warnings == []


def test_one_space_tags_and_empty_er_without_trailing_space():
    items = parse_bytes(
        b"TY - JOUR\nTI - One space\nDO - 10.1000/abc\nER  -\nTY  - JOUR\nTI  - B\nER  -"
    )
    assert [r.title for r in items] == ["One space", "B"]
    assert items[0].doi == "10.1000/abc"
    assert items[0].warnings == []


def test_bad_doi_is_a_warning_and_dropped():
    (record,) = parse_bytes(RECORD + b"DO  - 10.1000\nER  - \n")
    assert record.doi == ""
    assert record.warnings == ["DO: not a DOI: '10.1000'; value dropped"]


def test_doi_from_url_fields():
    (record,) = parse_bytes(RECORD + b"DO  - https://doi.org/10.1000/ABC\nER  - \n")
    assert record.doi == "10.1000/abc"
    (record,) = parse_bytes(
        RECORD + b"UR  - http://example.org/x; https://dx.doi.org/10.1000/xyz\nER  - \n"
    )
    assert record.doi == "10.1000/xyz"


@pytest.mark.parametrize(
    ("extra", "pmid"),
    [
        (b"AN  - 31234567\n", "31234567"),  # PubMed-derived RIS
        (b"AN  - 31234567\nDB  - PubMed\n", "31234567"),
        (b"AN  - 107798210\nDB  - CINAHL\n", ""),  # CINAHL accession, not a PMID
        (b"AN  - 605045632\nDB  - Embase\n", ""),  # Ovid Embase accession
        (b"AN  - WOS:000123456700001\n", ""),
        (b"M1  - 3\n", ""),  # EndNote issue number
        (b"M1  - 29768149\n", "29768149"),
        (b"C1  - (Smith J.) Department of X\n", ""),
        (b"N1  - PMID: 23439512\n", "23439512"),
    ],
)
def test_pmid_only_from_digits_in_fields_that_may_hold_one(extra, pmid):
    (record,) = parse_bytes(RECORD + extra + b"ER  - \n")
    assert record.pmid == pmid
    assert record.warnings == []


def test_pmcid_in_a_custom_field():
    (record,) = parse_bytes(RECORD + b"C2  - PMC6543210\nER  - \n")
    assert record.pmcid == "PMC6543210"


def test_pages_keywords_and_dates():
    data = (
        b"TY  - CHAP\nT1  - Chapter\nSP  - 606--608\nEP  - 608\n"
        b"KW  - alpha; beta\nKW  - gamma\ndelta\n"
        b"Y1  - 1996/05//\nDA  - 1996/05/12/\nER  - \n"
    )
    (record,) = parse_bytes(data)
    assert record.pages == "606-608"
    # EndNote writes further keywords as untagged lines under one KW.
    assert record.keywords == ["alpha", "beta", "gamma", "delta"]
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (1996, 5, None)


def test_implausible_year_warns():
    (record,) = parse_bytes(b"TY  - JOUR\nTI  - T\nPY  - 0000\nER  - \n")
    assert record.pub_date.year is None
    assert record.warnings == ["PY: year 0 outside 1000-2100; dropped"]


def test_text_outside_records_is_reported():
    items = parse_bytes(b"Exported by X\n" + RECORD + b"ER  - \nstray text\n")
    (record,) = items
    assert record.warnings == [
        "line 1: text outside any record (before 'TY  -' or after 'ER  -') ignored",
        "line 7: text outside any record (before 'TY  -' or after 'ER  -') ignored",
    ]


def test_record_without_title_or_identifier_is_invalid_and_next_parsed():
    items = parse_bytes(b"TY  - JOUR\nAU  - X, Y\nER  - \n" + RECORD + b"ER  - \n")
    assert isinstance(items[0], InvalidRecord)
    assert (items[0].location.record, items[0].location.line) == (1, 1)
    assert isinstance(items[1], StudyRecord)
    assert (items[1].location.record, items[1].location.line) == (2, 4)


def test_nonstandard_type_and_collective_author():
    data = b"TY  - Journal Article\nTI  - T\nAU  - Cochrane Collaboration\nT2  - J\nER  - \n"
    (record,) = parse_bytes(data)
    assert record.authors[0].collective_name == "Cochrane Collaboration"
    assert record.journal.title == "J"


def test_cp1252_bytes_decode_with_a_warning():
    data = "TY  - JOUR\nTI  - M\u00fcller\u2019s na\u00efve test\nER  - \n".encode("cp1252")
    (record,) = parse_bytes(data, source_name="endnote.ris")
    assert record.title == "M\u00fcller\u2019s na\u00efve test"
    assert len(record.warnings) == 1
    assert "endnote.ris" in record.warnings[0]
    assert "Windows-1252" in record.warnings[0]
