"""MEDLINE fields and quirks seen in real exports that test_medline.py does not cover.

Inputs are short records modelled on real files; each test names where the style comes
from. Tag meanings follow NLM's "MEDLINE/PubMed Data Element (Field) Descriptions".
"""

from __future__ import annotations

import io

import pytest

from evidence.importers import medline
from evidence.importers.records import ParseError, RelatedArticleRecord, StudyRecord


def parse_bytes(data: bytes, source_name: str = "inline.nbib") -> list:
    return list(medline.parse(io.BytesIO(data), source_name=source_name))


def parse_one(data: bytes) -> StudyRecord:
    (record,) = parse_bytes(data)
    assert isinstance(record, StudyRecord)
    return record


# --- Comments/Corrections: CIN, RIN, EIN... are other papers, kept as related articles --

# PubMed export of PMID 31978945 (NEJM 2020) and 22668778 (retracted in 2025), trimmed:
# the "PMID:" of a cross-reference wraps onto a continuation line.
COMMENTED_AND_RETRACTED = b"""PMID- 31978945
DP  - 2020 Feb 20
TI  - A Novel Coronavirus from Patients with Pneumonia in China, 2019.
LID - 10.1056/NEJMoa2001017 [doi]
CIN - N Engl J Med. 2020 Feb 20;382(8):760-762. doi: 10.1056/NEJMe2001126. PMID:
      31978944
CIN - J Med Virol. 2020 May;92(5):461-463. doi: 10.1002/jmv.25711. PMID: 32073161
AID - NJ202002203820808 [pii]
AID - 10.1056/NEJMoa2001017 [doi]
SO  - N Engl J Med. 2020 Feb 20;382(8):727-733. doi: 10.1056/NEJMoa2001017. Epub 2020
      Jan 24.

PMID- 22668778
DP  - 2012 Sep
TI  - LRRK2 kinase activity mediates toxic interactions between genetic mutation and
      oxidative stress in a Drosophila model: suppression by curcumin.
LID - 10.1016/j.nbd.2012.05.020 [doi]
RIN - Neurobiol Dis. 2025 Jun 15;210:106930. doi: 10.1016/j.nbd.2025.106930. PMID:
      40320298
EIN - Neurobiol Dis. 2013 Jan;49:231.
"""


def test_comments_and_corrections_are_related_articles_not_identifiers():
    commented, retracted = parse_bytes(COMMENTED_AND_RETRACTED)

    assert commented.related_articles == [
        RelatedArticleRecord(
            relation="CommentIn",
            ref_source="N Engl J Med. 2020 Feb 20;382(8):760-762. doi: 10.1056/NEJMe2001126",
            pmid="31978944",
        ),
        RelatedArticleRecord(
            relation="CommentIn",
            ref_source="J Med Virol. 2020 May;92(5):461-463. doi: 10.1002/jmv.25711",
            pmid="32073161",
        ),
    ]
    # The commentary's DOI and PMID are someone else's paper.
    assert (commented.pmid, commented.doi) == ("31978945", "10.1056/nejmoa2001017")
    assert retracted.related_articles == [
        RelatedArticleRecord(
            relation="RetractionIn",
            ref_source="Neurobiol Dis. 2025 Jun 15;210:106930. doi: 10.1016/j.nbd.2025.106930",
            pmid="40320298",
        ),
        # An erratum notice without a PMID keeps its citation.
        RelatedArticleRecord(
            relation="ErratumIn", ref_source="Neurobiol Dis. 2013 Jan;49:231", pmid=""
        ),
    ]
    assert retracted.warnings == []


# Tags from NLM's Comments/Corrections list, with the RefType PubMed XML gives them.
@pytest.mark.parametrize(
    ("tag", "relation"),
    [
        ("CON", "CommentOn"),
        ("EFR", "ErratumFor"),
        ("ROF", "RetractionOf"),
        ("UIN", "UpdateIn"),
        ("UOF", "UpdateOf"),
        ("CRI", "CorrectedandRepublishedIn"),
        ("CRF", "CorrectedandRepublishedFrom"),
        ("RPI", "RepublishedIn"),
        ("RPF", "RepublishedFrom"),
        ("SPIN", "SummaryForPatientsIn"),
        ("ORI", "OriginalReportIn"),
        ("ECI", "ExpressionOfConcernIn"),
        ("ECF", "ExpressionOfConcernFor"),
        ("RRI", "RetractedandRepublishedIn"),
        ("RRF", "RetractedandRepublishedFrom"),
    ],
)
def test_each_comments_corrections_tag_names_its_relation(tag, relation):
    line = f"{tag:<4}- Lancet. 2010 Feb 6;375(9713):445. PMID: 20137807\n".encode()
    record = parse_one(b"PMID- 9500320\nTI  - T\n" + line)
    assert record.related_articles == [
        RelatedArticleRecord(
            relation=relation, ref_source="Lancet. 2010 Feb 6;375(9713):445", pmid="20137807"
        )
    ]


# --- authors -----------------------------------------------------------------------------


def test_et_al_is_not_an_author():
    # Zotero's MEDLINE/nbib translator test, PMID 8402898 (Cell 1993): pre-1996 records
    # stop at ten authors and end the list with "AU  - et al.".
    record = parse_one(
        b"PMID- 8402898\nTI  - The GTPase dynamin binds to a subset of SH3 domains.\n"
        b"FAU - Hsuan, J\nAU  - Hsuan J\nFAU - Booker, G W\nAU  - Booker GW\n"
        b"AU  - et al.\nLA  - eng\n"
    )
    assert [(a.last_name, a.initials) for a in record.authors] == [
        ("Hsuan", "J"),
        ("Booker", "GW"),
    ]


def test_name_suffix_is_not_part_of_the_given_name_or_initials():
    # SPRINT (NEJM 2015, PMID 26551272): "FAU - Wright, Jackson T Jr" / "AU  - Wright JT Jr".
    # Records before 2002 have only AU, where "Jr" must not become the surname.
    record = parse_one(
        b"PMID- 26551272\nTI  - A Randomized Trial of Intensive versus Standard Blood-Pressure"
        b" Control.\nFAU - Wright, Jackson T Jr\nAU  - Wright JT Jr\n"
        b"FAU - Gilliam, F Roosevelt 3rd\nAU  - Gilliam FR 3rd\n"
        b"AU  - Kelly WN Sr\nAU  - Ivanov II\n"
    )
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("Wright", "Jackson T", "JT"),
        ("Gilliam", "F Roosevelt", "FR"),
        ("Kelly", "", "WN"),
        # Two initials, not a suffix: Russian names (Ivan Ivanovich) give "II".
        ("Ivanov", "", "II"),
    ]


def test_investigators_and_editors_are_not_authors_and_keep_their_ids():
    # NLM field list: IR/FIR/IRAD name the collaborators of a group (not authors), and
    # book chapters list FED/ED editors before the FAU/AU authors (GeneReviews style).
    record = parse_one(
        b"PMID- 21249755\nTI  - Peutz-Jeghers Syndrome\nBTI - Cancer Syndromes\n"
        b"FED - Riegert-Johnson, Douglas L\nED  - Riegert-Johnson DL\n"
        b"AUID- ORCID: 0000-0002-1825-0097\n"
        b"FAU - Gleeson, Ferga C.\nAU  - Gleeson FC\nAD  - Mayo Clinic, Rochester.\n"
        b"CN  - Cancer Syndromes Study Group\n"
        b"FIR - Roe, Richard\nIR  - Roe R\nAUID- ORCID: 0000-0001-5109-3700\n"
        b"IRAD- Somewhere Else.\n"
        b"AID - NBK1826 [bookaccession]\n"
    )
    assert [(a.last_name, a.collective_name) for a in record.authors] == [
        ("Gleeson", ""),
        ("", "Cancer Syndromes Study Group"),
    ]
    gleeson, group = record.authors
    assert (gleeson.orcid, gleeson.affiliations) == ("", ["Mayo Clinic, Rochester."])
    assert (group.orcid, group.affiliations) == ("", [])
    assert record.title == "Peutz-Jeghers Syndrome"  # the chapter, not the book
    assert record.doi == ""  # a bookaccession is not a DOI


# --- line structure ------------------------------------------------------------------------


def test_tag_written_without_a_space_after_the_dash():
    # JabRef's MedlinePlainImporter test files: "PMID-22664220", "TI  -This is...".
    items = parse_bytes(
        b"PMID-22664220\nPT  - Technical Report\nTI  -This is also a test title\n\n"
        b"PMID-22664238\nTI  - Second\n"
    )
    assert [(r.pmid, r.title) for r in items] == [
        ("22664220", "This is also a test title"),
        ("22664238", "Second"),
    ]
    assert items[0].publication_types[0].name == "Technical Report"


def test_stray_line_after_pmid_does_not_destroy_the_pmid():
    # JabRef's MedlinePlainImporterStringOutOfBounds.txt: a line with a tag but no dash.
    record = parse_one(b"\nPMID- 27433151\nSO  invalid line\nTI  - This is a test title\n")
    assert (record.pmid, record.title) == ("27433151", "This is a test title")
    assert record.warnings == ["line 3: text without a tag after PMID ignored: 'SO  invalid line'"]


def test_continuation_indented_by_a_tab_or_one_space_is_joined_without_warning():
    # Biopython's old Medline parser notes PubMed lines continued with one space
    # ("isolation &\n purification"); editors re-saving files turn the six spaces to tabs.
    record = parse_one(
        b"PMID- 12107064\nTI  - A title\n\tcontinued.\nMH  - Bacteria/*isolation &\n purification\n"
    )
    assert record.title == "A title continued."
    (heading,) = record.mesh_headings
    assert [(q.name, q.is_major) for q in heading.qualifiers] == [
        ("isolation & purification", True)
    ]
    assert record.warnings == []


# --- identifiers and titles ----------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        # JabRef's MedlinePlainImporterTestDOI.txt.
        b"AID - doi:10.1016/j.cpr.2005.02.002\n",
        # Re-exported by tools that drop PubMed's "[doi]" marker.
        b"LID - 10.1016/j.cpr.2005.02.002\n",
    ],
)
def test_doi_without_the_type_marker_is_still_the_doi(line):
    record = parse_one(b"PMID- 22664220\nTI  - T\n" + line)
    assert record.doi == "10.1016/j.cpr.2005.02.002"
    assert record.warnings == []


def test_untyped_location_id_that_is_not_a_doi_is_ignored_quietly():
    # PLOS records: "LID - e0216543" is the article number, not an identifier.
    record = parse_one(b"PMID- 31059518\nTI  - T\nPG  - e0216543\nLID - e0216543\n")
    assert (record.doi, record.pages, record.warnings) == ("", "e0216543", [])


def test_transliterated_title_when_there_is_no_title():
    # NLM field list: TT is the title in its original language; pubmed_xml falls back to
    # VernacularTitle the same way when ArticleTitle is missing.
    record = parse_one(b"PMID- 5\nTT  - Lechenie arterial'noi gipertonii.\nLA  - rus\n")
    assert record.title == "Lechenie arterial'noi gipertonii."


# --- files that are not MEDLINE --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "named"),
    [
        # Web of Science "Other reference software" export (test data of
        # knh11545/commandline4expertsearchers): two-letter tags without a dash, "ER" ends.
        (
            b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Asampong, E\n"
            b"TI Caregivers' views on stigmatization\nPM 29377890\nER\n\nEF\n",
            "Web of Science",
        ),
        (b"PT J\nAU Delea, MG\nTI Interventions\nPM 29370169\nER\n", "Web of Science"),
        # A RIS file given to the MEDLINE importer (--format medline).
        (b"TY  - JOUR\nTI  - A title\nAU  - Smith, J\nER  - \n", "RIS"),
    ],
)
def test_file_of_another_format_is_named_in_the_error(data, named):
    with pytest.raises(ParseError, match=rf"no MEDLINE records found.*{named}") as raised:
        parse_bytes(data, source_name="savedrecs.txt")
    assert raised.value.location.source == "savedrecs.txt"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # An evidence summary saved without its "View Original Abstract" marker: a .txt
        # goes to the MEDLINE reader, and the user should learn which format to choose.
        (
            "A randomised trial of 120 adults compared drug A with placebo. The primary "
            "outcome was pain. The authors acknowledge limitations.\n",
            "import it with the format evidence-summary or article-page",
        ),
        # Tagged lines that are no MEDLINE fields are not prose: no such hint.
        ("XY  - Some value. With two sentences here.\nZZ  - Other value\n", None),
    ],
)
def test_a_file_of_prose_is_told_which_formats_read_prose(text, hint):
    with pytest.raises(ParseError) as raised:
        parse_bytes(text.encode(), source_name="summary.txt")

    assert raised.value.reason.startswith("no MEDLINE records found")
    assert (hint in raised.value.reason) if hint else ("prose" not in raised.value.reason)


def test_a_sparse_record_without_pubmed_tags_is_still_medline():
    # EviDB's MEDLINE export of a study with no PMID, journal or authors has only a
    # title or an abstract; no tag only PubMed writes (PMID, OWN, STAT...) is in it.
    (record,) = parse_bytes(b"TI  - A study without identifiers.\nDP  - 2019\n")

    assert record.title == "A study without identifiers."
    assert record.pub_date.year == 2019


def test_a_ris_file_is_not_taken_for_a_sparse_medline_file():
    with pytest.raises(ParseError, match="looks like a RIS file"):
        parse_bytes(b"TY  - JOUR\nTI  - A title\nER  - \n")


# --- Funding (GR) and competing interests (COIS) ---------------------------------------

# PubMed's "Save → PubMed format", trimmed: GR is Grant's number/code/agency/country with
# the missing parts left out; an MRC number holds slashes of its own; COIS wraps.
FUNDED = b"""PMID- 28775130
TI  - A funded study.
GR  - Z01 CP010119/CP/NCI NIH HHS/United States
GR  - 089176/Wellcome Trust/United Kingdom
GR  - MR/K006584/1/MRC_/Medical Research Council/United Kingdom
GR  - Z99 CA999999/NULL/Intramural NIH HHS/United States
GR  - CIHR/Canada
COIS- Dr Smith reports grants from Example Pharma, outside the submitted work. The
      other authors declare no competing interests.
"""


def test_grant_lines_are_read_from_the_end():
    record = parse_one(FUNDED)

    assert [(g.grant_id, g.acronym, g.agency, g.country) for g in record.grants] == [
        ("Z01 CP010119", "CP", "NCI NIH HHS", "United States"),
        ("089176", "", "Wellcome Trust", "United Kingdom"),
        ("MR/K006584/1", "MRC_", "Medical Research Council", "United Kingdom"),
        ("Z99 CA999999", "", "Intramural NIH HHS", "United States"),
        ("", "", "CIHR", "Canada"),
    ]


def test_competing_interests_join_their_continuation_lines():
    assert parse_one(FUNDED).conflict_of_interest == (
        "Dr Smith reports grants from Example Pharma, outside the submitted work. "
        "The other authors declare no competing interests."
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("R01 CA123456/CA/NCI NIH HHS/United States", ("R01 CA123456", "CA", "NCI NIH HHS")),
        ("Wellcome Trust", ("", "", "Wellcome Trust")),
        ("WT_/Wellcome Trust/United Kingdom", ("", "WT_", "Wellcome Trust")),
    ],
)
def test_grant_line_forms(line, expected):
    grant = medline.grant_from_line(line)
    assert (grant.grant_id, grant.acronym, grant.agency) == expected


@pytest.mark.parametrize("line", ["", "/", " / / "])
def test_an_empty_grant_line_is_no_grant(line):
    assert medline.grant_from_line(line) is None
