from __future__ import annotations

import io

import pytest

from evidence.importers import bibtex
from evidence.importers.records import (
    NEEDS_CURATION_WARNING,
    InvalidRecord,
    ParseError,
    StudyRecord,
)


def parse_text(text: str, source_name: str = "inline.bib") -> list:
    return list(bibtex.parse(io.BytesIO(text.encode("utf-8")), source_name=source_name))


def parse_sample(sample_path, name: str) -> list:
    with sample_path(name).open("rb") as stream:
        return list(bibtex.parse(stream, source_name=name))


# --- zotero_bibtex_a.bib: Mendeley, Zotero (Circulation advisory), Icelandic LaTeX ---------


def test_sample_counts_and_locations(sample_path):
    items = parse_sample(sample_path, "zotero_bibtex_a.bib")

    assert [type(item) for item in items] == [StudyRecord] * 3
    assert [(r.location.record, r.location.line) for r in items] == [(1, 1), (2, 13), (3, 31)]
    assert all(r.warnings == [] for r in items)


def test_mendeley_entry(sample_path):
    record = parse_sample(sample_path, "zotero_bibtex_a.bib")[0]

    # Double braces protect the title's case; they are not part of it.
    assert record.title == (
        "The physical volcanology of the 1600 eruption of Huaynaputina, southern Peru"
    )
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors][:3] == [
        ("Adams", "Nancy K", "NK"),
        ("DeSilva", "Shanaka L", "SL"),
        ("Self", "Steven", "S"),
    ]
    assert len(record.authors) == 7
    assert record.keywords == ["Vulcanian eruptions", "breadcrust", "plinian"]
    assert record.pages == "493-518"
    assert (record.volume, record.pub_date.year) == ("62", 2001)
    assert record.journal.title == "Bulletin of Volcanology"


def test_zotero_circulation_entry(sample_path):
    record = parse_sample(sample_path, "zotero_bibtex_a.bib")[1]

    assert record.title.startswith("Increasing cardiopulmonary resuscitation provision")
    assert record.doi == "10.1161/cir.0b013e318288b4dd"
    assert record.pmid == "23439512"  # from "note = {{PMID:} 23439512}"
    assert record.journal.issn == "1524-4539"
    assert record.journal.title == "Circulation"
    assert record.language == "eng"
    assert (record.pub_date.year, record.pub_date.month) == (2013, 3)  # month = mar
    assert (record.volume, record.issue, record.pages) == ("127", "12", "1342-1350")
    assert len(record.keywords) == 10
    people = [a for a in record.authors if not a.collective_name]
    groups = [a.collective_name for a in record.authors if a.collective_name]
    assert len(people) == 15
    assert (people[6].last_name, people[6].fore_name, people[6].initials) == (
        "Root",
        "Elisabeth Dowling",
        "ED",
    )
    # Braced names are group authors, even with a comma inside.
    assert groups == [
        "American Heart Association Council on Quality of Care and Outcomes Research",
        "Emergency Cardiovascular Care Committee",
        "Council on Cardiopulmonary, Critical Care, Perioperative and Resuscitation",
        "Council on Clinical Cardiology",
        "Council on Cardiovascular Surgery and Anesthesia",
    ]


def test_icelandic_latex_accents_decoded(sample_path):
    record = parse_sample(sample_path, "zotero_bibtex_a.bib")[2]

    assert record.title == (
        "Búsáhaldabyltingin : Pólitískt jafnræði og þátttaka almennings í mótmælum"
    )
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("Önnudóttir", "Eva H.", "EH")
    ]
    assert record.journal.publisher == "Félagsvísindastofnun Háskóla Íslands"
    assert record.language == "isl"
    assert (record.pages, record.pub_date.year) == ("36-44", 2011)


# --- inline edge cases -------------------------------------------------------------------


def test_empty_file_is_a_parse_error():
    with pytest.raises(ParseError, match="empty file"):
        parse_text("   \n")


def test_garbage_is_a_parse_error():
    with pytest.raises(ParseError, match=r"no BibTeX entries found") as raised:
        parse_text("\nMy reading list\nsee john@example.org\n")
    assert raised.value.location.line == 2


def test_only_strings_and_comments_is_a_parse_error():
    with pytest.raises(ParseError, match="no BibTeX entries"):
        parse_text('@string{j = "J"}\n@comment{nothing here}\n')


def test_broken_entry_between_two_good_ones():
    items = parse_text(
        "@article{one, title = {First}, year = 2001}\n"
        "@article{two,\n"
        "  title = {Never closed\n"
        "  year = 2002,\n"
        "\n"
        "@article{three, title = {Third}, year = 2003}\n"
    )
    assert [type(item) for item in items] == [StudyRecord, InvalidRecord, StudyRecord]
    assert [items[0].title, items[2].title] == ["First", "Third"]
    broken = items[1]
    assert (broken.location.record, broken.location.line) == (2, 2)
    assert broken.reason.startswith("BibTeX syntax error in @article{two:")
    assert (items[2].location.record, items[2].location.line) == (3, 6)


def test_string_macros_and_concatenation():
    (record,) = parse_text(
        '@string{jnl = "Journal of Tests"}\n'
        "@STRING{pre = {Pre}}\n"
        '@string{full = pre # "fix"}\n'
        '@article{a, title = full # " and " # {post}, journal = JNL, year = 2001}\n'
    )
    assert record.journal.title == "Journal of Tests"  # macro names ignore case
    assert record.title == "Prefix and post"
    assert record.warnings == []


def test_undefined_macro_is_a_warning():
    (record,) = parse_text("@article{a, title = {T}, journal = nosuchjournal, month = jun}\n")
    assert record.journal.title == "nosuchjournal"
    # Month names are BibTeX's predefined macros: not reported.
    assert record.warnings == [
        "undefined @string macro 'nosuchjournal' in field 'journal'; kept as text"
    ]


def test_crossref_inherits_missing_fields():
    child, parent = parse_text(
        "@inproceedings{child, title = {Child paper}, author = {Roe, Richard},\n"
        "  crossref = {Proc1}, pages = {1--5}}\n"
        "@proceedings{proc1, title = {Proceedings of X}, year = 1999, publisher = {ACM},\n"
        "  volume = {12}, doi = {10.1000/parent}}\n"
    )
    assert child.title == "Child paper"  # not the parent's title
    assert (child.pub_date.year, child.volume, child.pages) == (1999, "12", "1-5")
    assert child.journal.publisher == "ACM"
    assert child.doi == ""  # identifiers belong to the parent work only
    assert [a.last_name for a in child.authors] == ["Roe"]
    assert parent.title == "Proceedings of X"
    assert child.warnings == []


def test_crossref_to_a_missing_entry_warns():
    (record,) = parse_text("@inproceedings{c, title = {Child}, crossref = {missing}}\n")
    assert record.warnings == ["crossref: no entry 'missing' in this file"]


def test_bad_doi_is_a_warning_and_dropped():
    (record,) = parse_text("@article{a, title = {T}, doi = {doi:10.99/xyz}}\n")
    assert record.doi == ""
    assert record.warnings == ["doi: not a DOI: 'doi:10.99/xyz'; value dropped"]


def test_doi_url_and_pubmed_eprint():
    (record,) = parse_text(
        "@article{a, title = {T}, url = {https://doi.org/10.1000/ABC_1},\n"
        "  eprint = {31234567}, eprinttype = {pubmed}, pmcid = {PMC7654321}}\n"
    )
    assert record.doi == "10.1000/abc_1"
    assert record.pmid == "31234567"
    assert record.pmcid == "PMC7654321"


def test_entry_without_title_or_identifier_is_invalid():
    items = parse_text("@misc{empty, note = {nothing}}\n@misc{ok, pmid = {123}}\n")
    assert isinstance(items[0], InvalidRecord)
    assert items[0].reason == (
        "entry 'empty' has neither a title, an identifier (doi/pmid) nor an abstract"
    )
    assert isinstance(items[1], StudyRecord)
    assert items[1].pmid == "123"


def test_duplicate_fields_and_keys_are_kept_with_warnings():
    first, second = parse_text(
        "@article{dup, Title = {First value}, title = {Second value}}\n"
        "@article{dup, title = {Another work}}\n"
    )
    assert first.title == "First value"
    assert first.warnings == ["field 'title' given twice; the first value kept"]
    assert second.title == "Another work"
    assert second.warnings == ["citation key 'dup' used by an earlier entry too"]


def test_percent_sign_does_not_truncate_and_math_is_kept():
    (record,) = parse_text(
        "@article{a, title = {50% of patients with TNF-$\\alpha$ \\emph{in vivo}},\n"
        "  abstract = {Only 10\\% responded --- see \\cite{x}.}}\n"
    )
    assert record.title == "50% of patients with TNF-$\\alpha$ in vivo"
    assert record.abstract.startswith("Only 10% responded \u2014 see")


def test_dates_keywords_and_editor_fallback():
    (record,) = parse_text(
        "@book{b, title = {A Book}, date = {2019-03-05}, editor = {Doe, Jane and Roe, R.},\n"
        "  keywords = {Colitis, Ulcerative; Humans}, year = {in press}}\n"
    )
    assert (record.pub_date.year, record.pub_date.month, record.pub_date.day) == (2019, 3, 5)
    assert record.keywords == ["Colitis, Ulcerative", "Humans"]  # ';' wins over ','
    assert [(a.last_name, a.initials) for a in record.authors] == [("Doe", "J"), ("Roe", "R")]
    assert record.warnings == ["no author field: editors listed as authors"]


def test_year_not_plausible_or_missing_warns():
    (record,) = parse_text("@article{a, title = {T}, year = {in press}}\n")
    assert record.pub_date.year is None
    assert record.warnings == ["year: no year in 'in press'"]
    (record,) = parse_text("@article{a, title = {T}, year = 3020}\n")
    assert record.warnings == ["year: year 3020 outside 1000-2100; dropped"]


def test_names_others_von_and_unbraced_group():
    (record,) = parse_text(
        "@article{a, title = {T}, author = {Ludwig van Beethoven and "
        'M{\\"u}ller, J{\\"o}rg and Cochrane Collaboration and others}}\n'
    )
    assert [(a.last_name, a.fore_name, a.collective_name) for a in record.authors] == [
        ("van Beethoven", "Ludwig", ""),
        ("Müller", "Jörg", ""),
        ("", "", "Cochrane Collaboration"),
    ]


def test_cp1252_bytes_decode_with_a_warning():
    data = "@article{a, title = {Caf\u00e9 \u2013 na\u00efve}}\n".encode("cp1252")
    (record,) = list(bibtex.parse(io.BytesIO(data), source_name="win.bib"))
    assert record.title == "Caf\u00e9 \u2013 na\u00efve"
    assert len(record.warnings) == 1
    assert "win.bib" in record.warnings[0]
    assert "Windows-1252" in record.warnings[0]


@pytest.mark.parametrize(
    "latex",
    [
        r"B{\'u}s{\'a}haldabyltingin {\th}{\'a}tttaka jafnr{\ae}{\dh}i",
        r"M{\"u}ller \v{c}a \v c {\O}ster \'{e} \'e \'{\i} \`a \^o \~n \={a} \.{z} \u{a}",
        r"\H{o} \c{c} \c c \k{a} \r{a} {\ss} {\aa} \o{} \l{}odz Stra\ss e {\L}{\oe}{\AE}",
        r"A \& B 10\% \$5 \# \_x \{y\} -- --- ``q'' a~b",
        r"\'{I}slands {\"O}nnud{\'o}ttir Ren{\'e}e O'Neil",
    ],
)
def test_fast_macro_decoding_agrees_with_pylatexenc(latex):
    slow = bibtex.clean(bibtex._DECODER.latex_to_text(latex))
    assert bibtex._latex_to_text(latex, [], field="title") == slow
    assert "\\" not in slow


def test_braced_name_is_a_group_author_without_organisation_words():
    (record,) = parse_text("@article{a, title = {T}, author = {{UK Biobank} and Smith, Jo}}\n")
    assert [(a.collective_name, a.last_name) for a in record.authors] == [
        ("UK Biobank", ""),
        ("", "Smith"),
    ]


def test_common_macros_do_not_need_pylatexenc(monkeypatch):
    class NoDecoder:
        def latex_to_text(self, value):
            raise AssertionError(f"pylatexenc called for {value!r}")

    monkeypatch.setattr(bibtex, "_DECODER", NoDecoder())
    warnings: list[str] = []
    text = bibtex._latex_to_text(r"P{\'o}lit{\'i}skt \v{C}apek {\ss} 5\% -- x", warnings, field="t")
    assert text == "Pólitískt Čapek ß 5% \u2013 x"
    assert warnings == []


def test_syntax_errors_are_reported_once_in_the_report_not_by_the_library(caplog):
    # bibtexparser logged each broken block again as a multi-line warning about its
    # internal "failed_blocks", on every import's console; the settings quieten it.
    with caplog.at_level("INFO"):
        items = parse_text("@article{a1,\n title = {Good}\n}\n@article{b2\n title = {Broken}\n}\n")

    assert any(isinstance(item, InvalidRecord) for item in items)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bibtexparser")] == []


def test_an_entry_with_only_an_abstract_is_kept_for_curation():
    # What EviDB's BibTeX export writes for an imported evidence summary (no title, no
    # identifier): it must come back, to attach to the study with that abstract.
    (record,) = parse_text("@article{anon, abstract = {Background: a trial of drug A.}}\n")

    assert isinstance(record, StudyRecord)
    assert record.abstract == "Background: a trial of drug A."
    assert record.warnings == [NEEDS_CURATION_WARNING]
