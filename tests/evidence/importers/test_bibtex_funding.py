"""Funding in BibTeX as real exporters write it: grants and funding statements.

Each input is a short entry modelled on a public export of the named source (field
names, escaping and layout as that source writes them), not a copy of a whole file.
"""

from __future__ import annotations

from evidence.importers.records import GrantRecord
from tests.evidence.importers.test_bibtex_dialects import parse_one, parse_text

# --- Web of Science -----------------------------------------------------------------------


def test_web_of_science_funders_grant_ids_and_funding_text():
    # Web of Science BibTeX export, older layout (clbustos/buhos spec/fixtures/wos.bib,
    # record ISI:000358699700002): values in double braces, "[" escaped as "{[}", funders
    # separated by "; " and wrapped over lines, grant ids in brackets after their funder.
    swedish, chinese = parse_text(
        "@article{ ISI:000358699700002,\n"
        "Author = {Lenberg, Per and Feldt, Robert},\n"
        "Title = {{Behavioral software engineering: A definition and systematic literature\n"
        "   review}},\n"
        "Year = {{2015}},\n"
        "Funding-Acknowledgement = {{Saab AB; Swedish Armed Forces; Swedish Defence Materiel"
        " Administration;\n"
        "   Swedish Governmental Agency for Innovation Systems (VIN-NOVA)\n"
        "   {[}2013-01199]}},\n"
        "Funding-Text = {{We acknowledge the support of Saab AB, Swedish Armed Forces, Swedish\n"
        "   Defence Materiel Administration and Swedish Governmental Agency for\n"
        "   Innovation Systems (VIN-NOVA) in the project `Aligning Requirements and\n"
        "   Verification Practices in Air Traffic Control Systems' (project number\n"
        "   2013-01199).}},\n"
        "}\n"
        "@article{ WOS:000456789100001,\n"
        "Title = {{Statins after stroke}},\n"
        "Funding-Acknowledgement = {{National Natural Science Foundation of China {[}81871234,"
        " 81671234]; Shanghai Municipal Health Commission {[}2018YQ01]}},\n"
        "Funding-Text = {{This work was supported by the National Natural Science Foundation\n"
        "   of China (81871234, 81671234) \\& the Shanghai Municipal Health Commission.}},\n"
        "}\n"
    )
    assert swedish.grants == [
        GrantRecord(agency="Saab AB"),
        GrantRecord(agency="Swedish Armed Forces"),
        GrantRecord(agency="Swedish Defence Materiel Administration"),
        GrantRecord(
            agency="Swedish Governmental Agency for Innovation Systems (VIN-NOVA)",
            grant_id="2013-01199",
        ),
    ]
    assert swedish.funding_statement == (
        "We acknowledge the support of Saab AB, Swedish Armed Forces, Swedish Defence Materiel"
        " Administration and Swedish Governmental Agency for Innovation Systems (VIN-NOVA) in"
        " the project `Aligning Requirements and Verification Practices in Air Traffic"
        " Control Systems' (project number 2013-01199)."
    )
    assert chinese.grants == [
        GrantRecord(agency="National Natural Science Foundation of China", grant_id="81871234"),
        GrantRecord(agency="National Natural Science Foundation of China", grant_id="81671234"),
        GrantRecord(agency="Shanghai Municipal Health Commission", grant_id="2018YQ01"),
    ]
    assert chinese.funding_statement == (
        "This work was supported by the National Natural Science Foundation of China"
        " (81871234, 81671234) & the Shanghai Municipal Health Commission."
    )
    assert (swedish.conflict_of_interest, chinese.conflict_of_interest) == ("", "")
    assert swedish.warnings == chinese.warnings == []


def test_web_of_science_current_layout_funder_without_grant_id():
    # Web of Science BibTeX export of 2024 (milensys/genai_authorship savedrecs.bib,
    # WOS:001067510500001, "DA = {2024-05-31}"): single braces, one funder, no grant id.
    record = parse_one(
        "@article{ WOS:001067510500001,\n"
        "Author = {Feuerriegel, Stefan and Hartmann, Jochen},\n"
        "Title = {Generative AI},\n"
        "Year = {2024},\n"
        "Funding-Acknowledgement = {Projekt DEAL},\n"
        "Funding-Text = {Open Access funding enabled and organized by Projekt DEAL.},\n"
        "Unique-ID = {WOS:001067510500001},\n"
        "DA = {2024-05-31},\n"
        "}\n"
    )
    assert record.grants == [GrantRecord(agency="Projekt DEAL")]
    assert record.funding_statement == "Open Access funding enabled and organized by Projekt DEAL."


def test_repeated_grants_are_kept_once_in_order():
    # Same agency and grant id twice (once behind protective braces), and the agency
    # again without any id: one GrantRecord per agency and id, first occurrence first.
    record = parse_one(
        "@article{ WOS:000111111100001,\n"
        "Title = {{Exercise in older adults}},\n"
        "Funding-Acknowledgement = {{National Institutes of Health {[}R01 GM12345]; Wellcome"
        " Trust; {National Institutes of Health}{[}R01 GM12345, R21 AG000001];\n"
        "   National Institutes of Health; wellcome trust}},\n"
        "}\n"
    )
    assert record.grants == [
        GrantRecord(agency="National Institutes of Health", grant_id="R01 GM12345"),
        GrantRecord(agency="Wellcome Trust"),
        GrantRecord(agency="National Institutes of Health", grant_id="R21 AG000001"),
    ]


# --- Scopus -------------------------------------------------------------------------------


def test_scopus_one_funder_and_one_funding_text():
    # Scopus BibTeX export (2023 layout, tab-indented, as in test_bibtex_dialects.py):
    # "Agency, ACRONYM, (grant ids)" and the text in "funding_text 1" (Scopus numbers
    # the key; clbustos/buhos lib/bibliographical_importer/bibtex.rb rewrites
    # "funding_text 1" because its parser broke on the space).
    record = parse_one(
        "@ARTICLE{Smith2023,\n"
        "\tauthor = {Smith, Jane},\n"
        "\ttitle = {Malaria vaccine uptake in Malawi},\n"
        "\tyear = {2023},\n"
        "\tfunding_details = {Wellcome Trust, WT, (203141/Z/16/Z)},\n"
        "\tfunding_text 1 = {This research was funded by the Wellcome Trust"
        " [203141/Z/16/Z].},\n"
        "\ttype = {Article},\n"
        "\tsource = {Scopus},\n"
        "\tnote = {Cited by: 2}\n"
        "}\n"
    )
    assert record.grants == [
        GrantRecord(agency="Wellcome Trust", grant_id="203141/Z/16/Z", acronym="WT")
    ]
    assert record.funding_statement == (
        "This research was funded by the Wellcome Trust [203141/Z/16/Z]."
    )
    assert record.warnings == []


def test_scopus_several_funders_and_numbered_funding_texts():
    # Scopus's current funding details ("; " between funders, ids in parentheses, an
    # agency name with a comma of its own, each funder named again without its ids), as
    # in the Funding Details of a 2024 Scopus export (coreofscience/python-bibx
    # docs/examples/scopus.csv, the CSV of the same records); two texts, numbered.
    record = parse_one(
        "@ARTICLE{Gong20244716,\n"
        "\tauthor = {Gong, Bin and Wang, Luowen},\n"
        "\ttitle = {Optimizing skyrmionium movement and stability via stray magnetic"
        " fields},\n"
        "\tyear = {2024},\n"
        "\tfunding_details = {Graduate Innovative Fund of Wuhan Institute of Technology,"
        " (CX2021376); National Natural Science Foundation of China, NSFC, (11804211,"
        " 12104348); National Natural Science Foundation of China, NSFC; Department of"
        " Science and Technology, Hubei Provincial People's Government, (2019CFB435);"
        " Department of Science and Technology, Hubei Provincial People's Government},\n"
        "\tfunding_text 1 = {The authors acknowledge financial support from the National"
        " Natural Science Foundation of China (no. 12104348 and 11804211).},\n"
        "\tfunding_text 2 = {We thank the Graduate Innovative Fund of Wuhan Institute of"
        " Technology (no. CX2021376).},\n"
        "\tsource = {Scopus},\n"
        "}\n"
    )
    assert record.grants == [
        GrantRecord(
            agency="Graduate Innovative Fund of Wuhan Institute of Technology",
            grant_id="CX2021376",
        ),
        GrantRecord(
            agency="National Natural Science Foundation of China",
            grant_id="11804211",
            acronym="NSFC",
        ),
        GrantRecord(
            agency="National Natural Science Foundation of China",
            grant_id="12104348",
            acronym="NSFC",
        ),
        GrantRecord(
            agency="Department of Science and Technology, Hubei Provincial People's Government",
            grant_id="2019CFB435",
        ),
    ]
    assert record.funding_statement == (
        "The authors acknowledge financial support from the National Natural Science"
        " Foundation of China (no. 12104348 and 11804211).\n\n"
        "We thank the Graduate Innovative Fund of Wuhan Institute of Technology"
        " (no. CX2021376)."
    )


def test_scopus_2018_layout_grant_id_and_acronym_before_the_agency():
    # Scopus BibTeX exports of September 2018 (clbustos/buhos
    # spec/watir/fixtures/scopus_tertiary.bib and spec/fixtures/scopus.bib): each funder
    # as "[grant id, ][ACRONYM, ]Agency", an unattributed grant id on its own, and one
    # unnumbered funding_text.
    kitchenham, lenberg = parse_text(
        "Scopus\nEXPORT DATE: 8 September 2018\n\n"
        "@ARTICLE{Kitchenham20097,\n"
        "author={Kitchenham, B. and Pearl Brereton, O.},\n"
        "title={Systematic literature reviews in software engineering - A systematic"
        " literature review},\n"
        "year={2009},\n"
        "funding_details={EPSRC, Engineering and Physical Sciences Research Council;"
        " EP/C51839X/1, EPSRC, Engineering and Physical Sciences Research Council; Keele"
        " University},\n"
        "funding_text={This research was funded by The Engineering and Physical Sciences"
        " Research Council (EPSRC) EBSE Project (EP/C51839X/1).},\n"
        "document_type={Review},\n"
        "source={Scopus},\n"
        "}\n"
        "@ARTICLE{Lenberg201515,\n"
        "author={Lenberg, P. and Feldt, R.},\n"
        "title={Behavioral software engineering: A definition and systematic literature"
        " review},\n"
        "year={2015},\n"
        'funding_details={F{\\"o}rsvarsmakten; 2013-01199},\n'
        "source={Scopus},\n"
        "}\n"
    )
    assert kitchenham.grants == [
        GrantRecord(
            agency="Engineering and Physical Sciences Research Council",
            grant_id="EP/C51839X/1",
            acronym="EPSRC",
        ),
        GrantRecord(agency="Keele University"),
    ]
    assert kitchenham.funding_statement == (
        "This research was funded by The Engineering and Physical Sciences Research Council"
        " (EPSRC) EBSE Project (EP/C51839X/1)."
    )
    # The grant id Scopus did not attribute has no agency to hang on: not a grant.
    assert lenberg.grants == [GrantRecord(agency="F\u00f6rsvarsmakten")]
    assert lenberg.funding_statement == ""


# --- any dialect --------------------------------------------------------------------------


def test_biblatex_funding_field_is_the_funding_statement():
    # A biblatex "funding" field (not a standard biblatex field; no exporter writing it
    # was found, so this entry is hand-written).
    record = parse_one(
        "@article{mueller2021,\n"
        "  title = {Sleep and memory},\n"
        "  date = {2021},\n"
        "  funding = {Supported by the Deutsche Forschungsgemeinschaft (DFG), project"
        " 12345.},\n"
        "}\n"
    )
    assert record.funding_statement == (
        "Supported by the Deutsche Forschungsgemeinschaft (DFG), project 12345."
    )
    assert record.grants == []


def test_entry_without_funding_has_no_grants_and_empty_statements():
    record = parse_one(
        "@article{plain2020, author = {Doe, Jane}, title = {Plain entry}, year = {2020},"
        " journal = {BMJ}, note = {Funded? Not said.}}\n"
    )
    assert record.title == "Plain entry"
    assert record.grants == []
    assert (record.funding_statement, record.conflict_of_interest) == ("", "")


def test_latex_accents_in_agency_names_are_decoded():
    # Reference managers and Web of Science escape non-ASCII letters and "_" in BibTeX.
    wos, scopus = parse_text(
        "@article{ WOS:000222222200001,\n"
        "Title = {{Ozone and asthma}},\n"
        'Funding-Acknowledgement = {{Schweizerischer Nationalfonds zur F{\\"o}rderung der\n'
        '   Wissenschaftlichen Forschung {[}310030\\_184672]; Universit{\\"a}t Z{\\"u}rich}},\n'
        "}\n"
        "@ARTICLE{Keller2022,\n"
        "\ttitle = {Ozone and asthma},\n"
        '\tfunding_details = {Universit{\\"a}t Z{\\"u}rich, UZH, (FK-19-001)},\n'
        "\tsource = {Scopus},\n"
        "}\n"
    )
    assert wos.grants == [
        GrantRecord(
            agency="Schweizerischer Nationalfonds zur F\u00f6rderung der Wissenschaftlichen"
            " Forschung",
            grant_id="310030_184672",
        ),
        GrantRecord(agency="Universit\u00e4t Z\u00fcrich"),
    ]
    assert scopus.grants == [
        GrantRecord(agency="Universit\u00e4t Z\u00fcrich", grant_id="FK-19-001", acronym="UZH")
    ]


def test_crossref_does_not_inherit_the_parent_funding():
    # A paper's funding is its own: the proceedings volume it cross-references may name
    # other funders.
    paper, _volume = parse_text(
        "@inproceedings{paper, title = {A paper}, crossref = {volume}}\n"
        "@proceedings{volume, title = {Proceedings}, year = {2020},\n"
        "  funding_details = {European Commission, EC, (101000001)},\n"
        "  funding = {The conference was supported by the European Commission.}}\n"
    )
    assert (paper.grants, paper.funding_statement) == ([], "")
    assert paper.pub_date.year == 2020  # other fields are still inherited
