"""RIS as real databases and reference managers write it, one quirk per test.

Each input is a few lines modelled on a real export; the comment above it names the
exporter. Most come from the CC0 exports of the same references through many tools in
asreview/citation-file-formatting (Datasets/RIS/_baseline_<tool>.ris).
"""

from __future__ import annotations

import io

import pytest

from evidence.importers import ris
from evidence.importers.records import ParseError, StudyRecord


def parse_one(data: bytes) -> StudyRecord:
    (record,) = list(ris.parse(io.BytesIO(data), source_name="export.ris"))
    assert isinstance(record, StudyRecord)
    return record


# --- Rayyan ------------------------------------------------------------------------------

# Rayyan glues a tag it does not know onto the end of the previous line, after spaces:
# "DO  - 10.1038/...     LK  - https://...". The DOI must survive, and U2 be its own tag.
RAYYAN = (
    b"TY  - JOUR\n"
    b"AN  - rayyan-42924189\n"
    b"TI  - Cellular structure of dinosaur scales\n"
    b"Y1  - 2024\n"
    b"T2  - Nat. Commun.\n"
    b"UR  - https://www.embase.com/search/results?subaction=viewrecord&id=L2029880245"
    b"&from=export     U2  - L2029880245\n"
    b'N1  - RAYYAN-INCLUSION: {"Emily"=>"Included"}\n'
    b"DO  - 10.1038/s41467-024-48400-3     LK  - https://utrechtuniversity.on.worldcat.org"
    b"/atoztitles/link?sid=EMBASE&id=doi:10.1038%2Fs41467-024-48400-3\n"
    b"ER  -\n"
)


def test_rayyan_tag_glued_to_the_previous_line_is_split_off():
    record = parse_one(RAYYAN)
    assert record.doi == "10.1038/s41467-024-48400-3"
    assert record.warnings == []


# --- Scopus ------------------------------------------------------------------------------

# Scopus writes the PubMed ID in C2, the article number in C7 and the citation count in N1.
SCOPUS = (
    b"TY  - JOUR\n"
    b"AU  - Wilson, L.N.\n"
    b"TI  - Global latitudinal gradients and the evolution of body size in dinosaurs\n"
    b"PY  - 2024\n"
    b"T2  - Nature Communications\n"
    b"VL  - 15\n"
    b"IS  - 1\n"
    b"C7  - 2864\n"
    b"DO  - 10.1038/s41467-024-46843-2\n"
    b"UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-85189760133"
    b"&doi=10.1038%2fs41467-024-46843-2&partnerID=40\n"
    b"PB  - Nature Research\n"
    b"SN  - 20411723 (ISSN)\n"
    b"C2  - 38580657\n"
    b"LA  - English\n"
    b"J2  - Nat. Commun.\n"
    b"M3  - Article\n"
    b"DB  - Scopus\n"
    b"N1  - Export Date: 05 August 2024; Cited By: 2; Correspondence Address: L.N. Wilson;"
    b" University of Alaska Museum, Fairbanks\n"
    b"ER  -\n"
)


def test_scopus_pubmed_id_in_c2():
    assert parse_one(SCOPUS).pmid == "38580657"


def test_scopus_short_pubmed_id_in_c2_is_kept():
    # Scopus says C2 is the PubMed ID: an old article's 5-digit PMID is one too.
    assert parse_one(SCOPUS.replace(b"C2  - 38580657", b"C2  - 4567")).pmid == "4567"


def test_article_number_in_c7_stands_in_for_missing_pages():
    record = parse_one(SCOPUS)
    assert record.pages == "2864"
    # Pages, when given, win over the article number.
    record = parse_one(SCOPUS.replace(b"C7  - 2864\n", b"C7  - 2864\nSP  - 10\nEP  - 19\n"))
    assert record.pages == "10-19"


def test_scopus_cited_by_count():
    record = parse_one(SCOPUS)
    assert record.citation_count == 2
    assert (record.journal.issn, record.journal.iso_abbreviation) == ("2041-1723", "Nat. Commun.")


# --- Web of Science ----------------------------------------------------------------------

# Web of Science gives the year in PY and "month day" (no year) in DA, the ISO
# abbreviation in JI, the publisher in PU, print then electronic ISSN in two SN lines.
WOS = (
    b"TY  - JOUR\n"
    b"AU  - Dawson, G\n"
    b"TI  - DICKENS, DINOSAURS, AND DESIGN\n"
    b"T2  - VICTORIAN LITERATURE AND CULTURE\n"
    b"LA  - English\n"
    b"PU  - CAMBRIDGE UNIV PRESS\n"
    b"PI  - NEW YORK\n"
    b"SN  - 1060-1503\n"
    b"SN  - 1470-1553\n"
    b"J9  - VICTORIAN LIT CULT\n"
    b"JI  - Vic. Lit. Cult.\n"
    b"DA  - SEP 22\n"
    b"PY  - 2016\n"
    b"VL  - 44\n"
    b"IS  - 4\n"
    b"C7  - e12292\n"
    b"DO  - 10.1017/S1060150316000358\n"
    b"WE  - Arts &amp; Humanities Citation Index (A&amp;HCI)\n"
    b"AN  - WOS:000387978600002\n"
    b"N1  - Times Cited in Web of Science Core Collection:  5\n"
    b"Total Times Cited:  7\n"
    b"Cited Reference Count:  80\n"
    b"ER  -\n"
)


@pytest.mark.parametrize(
    ("da", "expected"),
    [
        (b"SEP 22", (2016, 9, 22)),
        (b"DEC", (2016, 12, None)),
        (b"JUL-DEC", (2016, 7, None)),
    ],
)
def test_wos_month_and_day_without_year_take_the_year_from_py(da, expected):
    record = parse_one(WOS.replace(b"DA  - SEP 22", b"DA  - " + da))
    date = record.pub_date
    assert (date.year, date.month, date.day) == expected
    assert record.warnings == []


def test_wos_journal_abbreviation_publisher_and_issn_order():
    journal = parse_one(WOS).journal
    assert journal.title == "VICTORIAN LITERATURE AND CULTURE"
    assert journal.iso_abbreviation == "Vic. Lit. Cult."  # JI, not the all-caps J9
    assert journal.publisher == "CAMBRIDGE UNIV PRESS"  # PU
    # Victorian Literature and Culture: print 1060-1503, online 1470-1553.
    assert (journal.issn, journal.eissn) == ("1060-1503", "1470-1553")


def test_wos_article_number_and_core_collection_citation_count():
    record = parse_one(WOS)
    assert record.pages == "e12292"
    assert record.citation_count == 5


# --- Embase (embase.com) -----------------------------------------------------------------

# A record Embase took from MEDLINE only says "DB  - Medline"; its PMID is still in C5.
EMBASE_MEDLINE_ONLY = (
    b"TY  - JOUR\n"
    b"M3  - Erratum\n"
    b"Y1  - 2024\n"
    b"SP  - 14316\n"
    b"SN  - 2045-2322\n"
    b"JF  - Scientific reports\n"
    b"JO  - Sci Rep\n"
    b"UR  - https://www.embase.com/search/results?subaction=viewrecord&id=L644585435"
    b"&from=export\n"
    b"U2  - L644585435\n"
    b"C5  - 38906957\n"
    b"DB  - Medline\n"
    b"U4  - 2024-07-01\n"
    b"DO  - 10.1038/s41598-024-65283-y\n"
    b"A1  - Troiano, L.P.\n"
    b"M1  - (Troiano L.P., troiano.leonardo@hotmail.com) National Historic and Artistic"
    b" Heritage Institute, DF, Brasilia, Brazil\n"
    b"T1  - Erratum: Author Correction: A remarkable assemblage of petroglyphs\n"
    b"ER  - \n"
)


def test_embase_record_from_medline_keeps_its_pmid_from_c5():
    assert parse_one(EMBASE_MEDLINE_ONLY).pmid == "38906957"


# --- EBSCOhost (Academic Search, CINAHL) -------------------------------------------------

# EBSCO puts a bare DOI in L3, marks the abstract's origin and adds a second AB holding
# the publisher's copyright notice.
EBSCO = (
    b"TY  - JOUR\n"
    b"AU  - Curry Rogers, Kristina\n"
    b"T1  - Osteohistological insight into the growth dynamics of early dinosaurs.\n"
    b"JO  - PLoS ONE\n"
    b"JF  - PLoS ONE\n"
    b"Y1  - 2024/04/03/\n"
    b"SN  - 19326203\n"
    b"AB  - Dinosauria debuted on Earth's stage after the Permo-Triassic Mass Extinction."
    b" [ABSTRACT FROM AUTHOR]\n"
    b"AB  - Copyright of PLoS ONE is the property of Public Library of Science and its"
    b" content may not be copied or emailed to multiple sites. (Copyright applies to all"
    b" Abstracts.)\n"
    b"N1  - Accession Number: 176404503; Curry Rogers, Kristina 1; Source Info: 4/3/2024,"
    b" Vol. 19 Issue 4, p1\n"
    b"L3  - 10.1371/journal.pone.0298242\n"
    b"UR  - https://search.ebscohost.com/login.aspx?direct=true&db=aph&AN=176404503\n"
    b"DP  - EBSCOhost\n"
    b"DB  - aph\n"
    b"ER  - \n"
)


def test_ebsco_bare_doi_in_l3():
    assert parse_one(EBSCO).doi == "10.1371/journal.pone.0298242"


def test_ebsco_abstract_without_origin_mark_or_copyright_notice():
    record = parse_one(EBSCO)
    assert record.abstract == (
        "Dinosauria debuted on Earth's stage after the Permo-Triassic Mass Extinction."
    )


def test_ebsco_copyright_notice_alone_is_no_abstract():
    first_ab = EBSCO.index(b"AB  - Dinosauria")
    second_ab = EBSCO.index(b"AB  - Copyright")
    assert parse_one(EBSCO[:first_ab] + EBSCO[second_ab:]).abstract == ""


def test_cinahl_pmid_with_nlm_prefix_in_notes():
    # CINAHL prints a MEDLINE record's PMID as "PMID: NLM29768149".
    data = EBSCO.replace(b"DB  - aph", b"DB  - ccm").replace(
        b"p1\n", b"p1; Language: English; PMID: NLM29768149\n"
    )
    assert parse_one(data).pmid == "29768149"


# --- Cochrane Library (CENTRAL) ----------------------------------------------------------

# Wiley's Cochrane export: a header before each record, two spaces after the hyphen,
# the PubMed ID as "PUBMED 123" in C3, and page ranges with a U+2010 hyphen.
COCHRANE = (
    "Record #4 of 18\n"
    "Provider: John Wiley & Sons, Ltd.\n"
    'Content: text/plain; charset="UTF-8"\n'
    "\n"
    "TY  -  JOUR\n"
    "AN  -  CN-02677909\n"
    "AU  -  Kim, JS\n"
    "TI  -  Time to transfer: long-term effects of a content literacy intervention\n"
    "JA  -  Developmental psychology\n"
    "PY  -  2024\n"
    "VL  -  60\n"
    "SP  -  1279\u20101297\n"
    "C3  -  PUBMED 38407106,EMBASE 643589775\n"
    "M3  -  Journal article\n"
    "DO  -  10.1037/dev0001710\n"
    "UR  -  https://www.cochranelibrary.com/central/doi/10.1002/central/CN-02677909/full\n"
    "ER  -  \n"
    "\n"
    "\n"
).encode()


def test_cochrane_pubmed_id_in_c3():
    assert parse_one(COCHRANE).pmid == "38407106"


def test_cochrane_unicode_hyphen_in_page_range():
    assert parse_one(COCHRANE).pages == "1279-1297"


def test_cochrane_record_header_is_not_reported_as_stray_text():
    record = parse_one(COCHRANE)
    assert record.title.startswith("Time to transfer")
    assert record.warnings == []


# --- Ovid --------------------------------------------------------------------------------

# Ovid numbers each record on a line of its own and writes its accession number (for
# MEDLINE: the PMID) in ID; AI pairs an author with an ORCID.
OVID = (
    b"2. \n"
    b"TY  - JOUR\n"
    b"DB  - Ovid MEDLINE(R) ALL\n"
    b"ID  - 32672909\n"
    b"DO  - https://dx.doi.org/10.1186/s11689-021-09396-9\n"
    b"T1  - DINOSAUR: An integrated cognitive-behavioral treatment for anxiety.\n"
    b"A1  - Keefer, Amy\n"
    b"A1  - Vasa, Roma A\n"
    b"AI  - Keefer, Amy; ORCID: https://orcid.org/0000-0001-6931-0232\n"
    b"Y1  - 2021//\n"
    b"JF  - Journal of Neurodevelopmental Disorders\n"
    b"ER  -  \n"
    b"\n"
    b" \n"
    b"\n"
)


def test_ovid_record_number_lines_are_not_reported_as_stray_text():
    assert parse_one(OVID).warnings == []


def test_file_of_record_numbers_only_is_a_parse_error():
    with pytest.raises(ParseError, match="no RIS records found"):
        list(ris.parse(io.BytesIO(b"1. \n\n2. \n"), source_name="export.ris"))


def test_ovid_medline_pmid_in_id():
    assert parse_one(OVID).pmid == "32672909"


def test_ovid_id_of_another_database_is_not_a_pmid():
    record = parse_one(
        OVID.replace(b"Ovid MEDLINE(R) ALL", b"APA PsycInfo <2021>").replace(
            b"ID  - 32672909", b"ID  - 2021940540"
        )
    )
    assert record.pmid == ""


def test_endnote_record_number_in_id_is_not_a_pmid():
    # EndNote's export of an Embase record: "DB  - Medline" and its own record number in ID.
    data = (
        b"TY  - JOUR\nAU  - Brownstein, C. D.\nDB  - Medline\n"
        b"TI  - A juvenile bird\nID  - 887\nER  - \n"
    )
    assert parse_one(data).pmid == ""


def test_ovid_orcid_joins_its_author():
    authors = parse_one(OVID).authors
    assert [(a.last_name, a.orcid) for a in authors] == [
        ("Keefer", "0000-0001-6931-0232"),
        ("Vasa", ""),
    ]


# --- Mendeley, Zotero and Citavi exports of lens.org records -----------------------------

# No AN or DB: the PubMed and PubMed Central IDs are only in the record's links.
LENS_VIA_MENDELEY = (
    b"TY  - JOUR\n"
    b"AU  - van den Hoven, null\n"
    b"AU  - Smits, Maarten L J\n"
    b"DO  - 10.1016/j.psychres.2020.113438\n"
    b"KW  - n/a\n"
    b"PY  - 2020\n"
    b"TI  - PTSD treatment in times of COVID-19\n"
    b"T2  - Psychiatry research\n"
    b"UR  - https://lens.org/124-288-972-301-994\n"
    b"UR  - https://www.ncbi.nlm.nih.gov/pubmed/32905864\n"
    b"UR  - https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7458053\n"
    b"ER  -\n"
)


def test_pubmed_and_pmc_ids_from_links():
    record = parse_one(LENS_VIA_MENDELEY)
    assert (record.pmid, record.pmcid) == ("32905864", "PMC7458053")


@pytest.mark.parametrize(
    ("link", "pmid", "pmcid"),
    [
        (b"L2  - https://pubmed.ncbi.nlm.nih.gov/22752652/", "22752652", ""),
        (b"L2  - https://europepmc.org/article/MED/33523284", "33523284", ""),
        (b"L2  - https://europepmc.org/article/PMC/PMC7999968", "", "PMC7999968"),
        (b"L2  - https://europepmc.org/articles/PMC3481080", "", "PMC3481080"),
        (b"L2  - https://pmc.ncbi.nlm.nih.gov/articles/PMC7318295/", "", "PMC7318295"),
    ],
)
def test_identifier_links_in_zotero_and_citavi_exports(link, pmid, pmcid):
    record = parse_one(b"TY  - JOUR\nTI  - T\n" + link + b"\nER  - \n")
    assert (record.pmid, record.pmcid) == (pmid, pmcid)


def test_identifier_fields_win_over_links():
    data = LENS_VIA_MENDELEY.replace(b"ER  -", b"AN  - 11111111\nER  -")
    assert parse_one(data).pmid == "11111111"


def test_placeholder_given_name_and_keyword_are_dropped():
    # Mendeley writes a missing given name as "null"; MDPI writes "KW  - n/a".
    record = parse_one(LENS_VIA_MENDELEY)
    first = record.authors[0]
    assert (first.last_name, first.fore_name, first.initials) == ("van den Hoven", "", "")
    assert record.keywords == []


# --- EPPI-Reviewer -----------------------------------------------------------------------


def test_eppi_author_split_at_its_comma_is_joined_again():
    # EPPI-Reviewer turns "Dos Santos, H.B." into two A1 lines: "Dos Santos" and "H B".
    data = (
        b"TY  - JOUR\nT1  - A remarkable assemblage of petroglyphs\n"
        b"A1  - Troiano L P\nA1  - Dos Santos\nA1  - H B\nA1  - Aureliano T\n"
        b"ST  - Troiano (2024)\nER  - \n"
    )
    authors = parse_one(data).authors
    assert [(a.last_name, a.initials) for a in authors] == [
        ("Troiano", "LP"),
        ("Dos Santos", "HB"),
        ("Aureliano", "T"),
    ]


# --- EndNote / Zotero notes --------------------------------------------------------------


def test_pmcid_in_notes():
    data = b"TY  - JOUR\nTI  - T\nN1  - PMID: 29768149; PMCID: PMC6543210\nER  - \n"
    record = parse_one(data)
    assert (record.pmid, record.pmcid) == ("29768149", "PMC6543210")
