"""BibTeX as real exporters write it: one test per dialect quirk.

Each input is a short entry modelled on a public export of the named source (field
names, escaping and layout as that source writes them), not a copy of a whole file.
"""

from __future__ import annotations

import io

from evidence.importers import bibtex
from evidence.importers.records import StudyRecord


def parse_text(text: str, source_name: str = "dialect.bib") -> list:
    return list(bibtex.parse(io.BytesIO(text.encode("utf-8")), source_name=source_name))


def parse_one(text: str) -> StudyRecord:
    (record,) = parse_text(text)
    assert isinstance(record, StudyRecord), record
    return record


# --- wrappers around the entries: already read correctly, kept as regressions -----------


def test_export_headers_footers_and_line_endings_are_not_records():
    # Scopus starts its file with two free-text lines; JabRef writes "% Encoding" and
    # @Comment{jabref-meta...} blocks; Web of Science puts a space before the key;
    # Windows exports add a BOM and CRLF.
    text = (
        "\ufeffScopus\r\nEXPORT DATE: 17 February 2024\r\n\r\n"
        "% Encoding: UTF-8\r\n"
        "@article{ WOS:001012921200001,\r\nTitle = {Swin MAE},\r\nYear = {2023},\r\n}\r\n"
        "@Comment{jabref-meta: databaseType:bibtex;}\r\n"
        "@Comment{jabref-meta: grouping:\r\n0 AllEntriesGroup:;\r\n1 StaticGroup:x\\;0\\;;\r\n}\r\n"
    )
    (record,) = parse_text(text)
    assert (record.title, record.pub_date.year) == ("Swin MAE", 2023)
    assert (record.location.record, record.location.line) == (1, 5)
    assert record.warnings == []


# --- Scopus -------------------------------------------------------------------------------


def test_scopus_author_keywords_abbreviation_and_citation_count():
    # Scopus BibTeX export (2023 layout): author keywords and index keywords in two
    # fields, the ISO abbreviation in abbrev_source_title, the count in note.
    record = parse_one(
        "@ARTICLE{Povoa2023,\n"
        "\tauthor = {P\u00f3voa, Ana Rita and Costa, Cl\u00e1udia Maria},\n"
        "\ttitle = {Irish Dancing Injuries: A Systematic Review},\n"
        "\tyear = {2023},\n"
        "\tjournal = {International Journal of Environmental Research and Public Health},\n"
        "\tpages = {100 \u2013 127},\n"
        "\tauthor_keywords = {dance; injury; risk factors},\n"
        "\tkeywords = {Humans; Dancing; Risk Factors},\n"
        "\tissn = {16617827},\n"
        "\tabbrev_source_title = {Int. J. Environ. Res. Public Health},\n"
        "\ttype = {Review},\n"
        "\tsource = {Scopus},\n"
        "\tnote = {Cited by: 3; All Open Access, Gold Open Access}\n"
        "}\n"
    )
    # Author keywords first; "Risk Factors" is the same keyword as "risk factors".
    assert record.keywords == ["dance", "injury", "risk factors", "Humans", "Dancing"]
    assert record.journal.iso_abbreviation == "Int. J. Environ. Res. Public Health"
    assert record.journal.issn == "1661-7827"
    assert record.citation_count == 3
    assert record.pages == "100-127"


def test_scopus_legacy_article_number_pubmed_id_and_cited_by():
    # Scopus BibTeX export before 2023: art_number instead of pages for
    # article-numbered journals, pubmed_id, and "cited By N" in note.
    record = parse_one(
        "@ARTICLE{Steblinski2022,\n"
        "author={Steblinski, P. and Blachowicz, T.},\n"
        "title={Analysis of the energy distribution of iron nano-spheres},\n"
        "journal={Journal of Magnetism and Magnetic Materials},\n"
        "year={2022},\n"
        "volume={562},\n"
        "doi={10.1016/j.jmmm.2022.169805},\n"
        "art_number={169805},\n"
        "note={cited By 12},\n"
        "pubmed_id={31234567},\n"
        "document_type={Article},\n"
        "source={Scopus},\n"
        "}\n"
    )
    assert record.pages == "169805"
    assert record.pmid == "31234567"
    assert record.citation_count == 12


# --- Web of Science -----------------------------------------------------------------------


def test_web_of_science_article_number_eissn_times_cited_and_keywords_plus():
    # Web of Science "BibTeX" export: capitalised, hyphenated field names.
    record = parse_one(
        "@article{ WOS:001012921200001,\n"
        "Author = {Xu, Zi'an and Dai, Yin and Liu, Fayu and\n"
        "   Shi, Lifu},\n"
        "Title = {Swin MAE: Masked autoencoders for small datasets},\n"
        "Journal = {COMPUTERS IN BIOLOGY AND MEDICINE},\n"
        "Year = {2023},\n"
        "Volume = {161},\n"
        "Month = {JUL},\n"
        "DOI = {10.1016/j.compbiomed.2023.107037},\n"
        "Article-Number = {107037},\n"
        "ISSN = {0010-4825},\n"
        "EISSN = {1879-0534},\n"
        "Keywords = {Masked autoencoder; Small datasets},\n"
        "Keywords-Plus = {IMAGE SEGMENTATION; NETWORK},\n"
        "Journal-ISO = {Comput. Biol. Med.},\n"
        "Times-Cited = {19},\n"
        "Unique-ID = {WOS:001012921200001},\n"
        "DA = {2024-01-27},\n"
        "}\n"
    )
    assert record.pages == "107037"
    assert (record.journal.issn, record.journal.eissn) == ("0010-4825", "1879-0534")
    assert record.citation_count == 19
    assert record.keywords == [
        "Masked autoencoder",
        "Small datasets",
        "IMAGE SEGMENTATION",
        "NETWORK",
    ]
    assert record.journal.iso_abbreviation == "Comput. Biol. Med."
    assert (record.pub_date.year, record.pub_date.month) == (2023, 7)  # not DA, the export date
    assert [a.last_name for a in record.authors] == ["Xu", "Dai", "Liu", "Shi"]


# --- ACM Digital Library, biblatex ------------------------------------------------------


def test_article_number_fields_fill_missing_pages_only():
    # ACM Digital Library writes articleno/numpages; biblatex (Zotero Better BibTeX)
    # writes eid. Either is the article's locator when there are no pages.
    acm, biblatex, both = parse_text(
        "@article{10.1145/3292500,\n"
        "author = {Doe, Jane}, title = {Deep Learning}, year = {2019},\n"
        "journal = {Commun. ACM}, month = may, articleno = {42}, numpages = {10}}\n"
        "@article{bbt, title = {T}, journaltitle = {PLOS ONE}, eid = {e0216555}}\n"
        "@article{both, title = {T}, pages = {1--10}, articleno = {42}}\n"
    )
    assert (acm.pages, biblatex.pages, both.pages) == ("42", "e0216555", "1-10")


# --- identifiers hidden in links and keys -------------------------------------------------


def test_pubmed_links_give_pmid_and_pmcid():
    # EndNote's "BibTeX Export" of a PubMed record keeps the PMID only in the URL;
    # Mendeley does the same with the new PubMed and PMC addresses.
    endnote, mendeley = parse_text(
        "@article{RN109,\n"
        "   author = {Domscheit, H. and Hegeman, M. A.},\n"
        "   title = {Molecular Dynamics of Lung Injury in Rodents},\n"
        "   journal = {Front Physiol},\n"
        "   ISSN = {1664-042X (Print)\n1664-042X (Linking)},\n"
        "   DOI = {10.3389/fphys.2020.00036},\n"
        "   url = {https://www.ncbi.nlm.nih.gov/pubmed/32116752},\n"
        "   year = {2020},\n"
        "   type = {Journal Article}\n"
        "}\n"
        "@article{Smith2021,\n"
        "title = {{Another}},\n"
        "url = {https://pubmed.ncbi.nlm.nih.gov/33456789/ "
        "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7033456/},\n"
        "year = {2021}\n"
        "}\n"
    )
    assert (endnote.pmid, endnote.doi) == ("32116752", "10.3389/fphys.2020.00036")
    assert (mendeley.pmid, mendeley.pmcid) == ("33456789", "PMC7033456")


def test_texmed_citation_key_is_the_pmid():
    # TeXMed (PubMed to BibTeX) writes the PMID only in the key, as "pmid<digits>".
    texmed, europe = parse_text(
        "% 31025164 \n"
        "@Article{pmid31025164,\n"
        '   Author="Smith, J.  and Doe, A. ",\n'
        '   Title="{Genome editing}",\n'
        '   Journal="Nature",\n'
        '   Year="2019",\n'
        '   Month="Apr"\n'
        "}\n"
        "@article{pmid:23249562, title = {The R0 package}, pmid = {23249562}}\n"
    )
    assert texmed.pmid == "31025164"
    assert europe.pmid == "23249562"
    others = parse_text(
        "@article{pmidtrial2019, title = {Not a PMID key}}\n"
        "@article{pmid_2019, title = {A year, not a PMID}}\n"
    )
    assert [other.pmid for other in others] == ["", ""]


def test_latex_escapes_in_doi_and_url_are_undone():
    # Mendeley escapes "_" as {\_} and "#" as {\#} in DOIs and URLs, as LaTeX needs;
    # SICI DOIs (Wiley, 1990s) contain "#".
    mendeley, sici = parse_text(
        "@incollection{Dinh2008, title = {{Measuring}},\n"
        "url = {https://doi.org/10.1007/978-3-540-89689-0{\\_}23}}\n"
        "@article{sici, title = {T},\n"
        "doi = {10.1002/(SICI)1097-0258(19980515)17:9<1011::AID-SIM794>3.0.CO;2-{\\#}}}\n"
    )
    assert mendeley.doi == "10.1007/978-3-540-89689-0_23"
    assert sici.doi == "10.1002/(sici)1097-0258(19980515)17:9<1011::aid-sim794>3.0.co;2-#"


# --- names ---------------------------------------------------------------------------------


def test_biblatex_extended_name_format():
    # Zotero Better BibLaTeX and biber write names with particles in the extended
    # "family=..., given=..., prefix=..." form.
    record = parse_one(
        "@article{meer2020,\n"
        "  title = {Names},\n"
        "  author = {family=Meer, given=Jan, prefix=van der, useprefix=false and "
        "Smith, John and given={Ana Mar{\\'i}a}, family={Garc{\\'i}a L{\\'o}pez}, "
        "suffix={Jr.}},\n"
        "  date = {2020},\n"
        "}\n"
    )
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("van der Meer", "Jan", "J"),
        ("Smith", "John", "J"),
        ("García López", "Ana María", "AM"),
    ]


# --- markup from the source database -----------------------------------------------------


def test_html_markup_in_title_and_abstract_is_removed():
    # Crossref content negotiation (application/x-bibtex) passes the publisher's HTML
    # through; Better BibTeX writes Zotero's rich-text tags with {$<$} and {$>$}.
    crossref, zotero = parse_text(
        "@article{Smith_2019, title={The <i>Escherichia coli</i> CO<sub>2</sub> response},"
        " volume={5}, ISSN={0028-0836}, url={http://dx.doi.org/10.1000/xyz},"
        " DOI={10.1000/xyz}, journal={Nature}, author={Smith, Ann}, year={2019},"
        " month=may }\n"
        "@article{heyConcept2017,\n"
        "  title = {Is the Concept of Clinical Equipoise Still Relevant?},\n"
        "  abstract = {{$<$}p{$>$}\\textbf{Spencer Hey} argue that p {$<$} 0.05"
        " is not enough{$<$}/p{$>$}},\n"
        "}\n"
    )
    assert crossref.title == "The Escherichia coli CO2 response"
    assert zotero.abstract == "Spencer Hey argue that p < 0.05 is not enough"


def test_wiley_placeholders_and_abstract_label_are_dropped():
    # Wiley Online Library (also the Cochrane Library's export): Early View articles
    # have "n/a" for volume and issue, and abstracts start with the word "Abstract".
    cochrane, early_view = parse_text(
        "@article{https://doi.org/10.1002/14651858.CD012345.pub2,\n"
        "author = {Smith, Jane},\n"
        "title = {Exercise for depression},\n"
        "journal = {Cochrane Database of Systematic Reviews},\n"
        "number = {5},\n"
        "doi = {https://doi.org/10.1002/14651858.CD012345.pub2},\n"
        "abstract = {Abstract Background Depression is common. Objectives To assess.},\n"
        "year = {2019}\n"
        "}\n"
        "@article{https://doi.org/10.1111/ssqu.13242,\n"
        "title = {Classification Algorithm for Skin Color},\n"
        "volume = {n/a},\n"
        "number = {n/a},\n"
        "pages = {},\n"
        "abstract = {ABSTRACT Objective We measure skin color.},\n"
        "year = {2023}\n"
        "}\n"
    )
    assert cochrane.doi == "10.1002/14651858.cd012345.pub2"
    assert cochrane.abstract == "Background Depression is common. Objectives To assess."
    assert cochrane.issue == "5"
    assert (early_view.volume, early_view.issue, early_view.pages) == ("", "", "")
    assert early_view.abstract == "Objective We measure skin color."
    (kept,) = parse_text("@article{a, title = {T}, abstract = {Abstract reasoning is hard.}}\n")
    assert kept.abstract == "Abstract reasoning is hard."


# --- entries without a citation key ---------------------------------------------------------


def test_entries_without_citation_key_are_read():
    # JabRef saves entries it has no key for as "@Article{," (read already); some
    # converters drop the key and its comma altogether.
    items = parse_text(
        "@Article{,\n  title = {First keyless}, year = {2019}}\n"
        "@Article{,\n  title = {Second keyless}, year = {2020}}\n"
        "@article{title = {No key at all}, year = {2021},\n  doi = {10.1000/nokey}}\n"
        "@string{journal = {Not an entry}}\n"
        "@article{ok, title = {Keyed}}\n"
    )
    assert [type(item) for item in items] == [StudyRecord] * 4
    assert [item.title for item in items] == [
        "First keyless",
        "Second keyless",
        "No key at all",
        "Keyed",
    ]
    assert items[2].doi == "10.1000/nokey"
    assert items[2].location.line == 5
    # EviDB does not use keys: keyless entries are neither duplicates nor suspect.
    assert [item.warnings for item in items] == [[], [], [], []]


# --- EndNote ---------------------------------------------------------------------------------


def test_endnote_keywords_one_per_line():
    # EndNote's "BibTeX Export" style writes multi-line fields as stored (see its ISSN
    # "(Print)" / "(Linking)" lines): one keyword per line, no separator.
    endnote, wrapped = parse_text(
        "@article{RN12,\n"
        "   title = {Exercise in older adults},\n"
        "   keywords = {Aged\n"
        "Exercise Therapy/methods\n"
        "Humans},\n"
        "   type = {Journal Article}\n"
        "}\n"
        "@article{wos, title = {T}, keywords = {heart failure; randomized\n"
        "   controlled trial; exercise}}\n"
    )
    assert endnote.keywords == ["Aged", "Exercise Therapy/methods", "Humans"]
    # A separator wins over line breaks, which then only wrap a long line.
    assert wrapped.keywords == ["heart failure", "randomized controlled trial", "exercise"]
