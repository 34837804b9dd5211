"""Each writer on hand-built records: no database, no parser."""

from __future__ import annotations

import csv
import io
import json

import pytest

from evidence.exporters import CHUNK_CHARS, EXPORT_FORMATS, UnknownExportFormat, stream_export
from evidence.exporters.bibtex import citation_key, escape_latex, write_bibtex
from evidence.exporters.common import one_line, split_pages
from evidence.exporters.csl_json import write_csl_json
from evidence.exporters.medline import write_medline
from evidence.exporters.ris import write_ris
from evidence.exporters.table import COLUMNS, write_csv
from evidence.importers.records import (
    AuthorRecord,
    PublicationDate,
    PublicationTypeRecord,
    StudyRecord,
)
from tests.evidence.exporters.records import bare_record, full_record


def text_of(writer, records) -> str:
    return "".join(writer(records))


def test_printable_text_holds_no_white_space_but_the_space():
    # one_line's shortcut: what str.split() splits on, other than " ", is never
    # printable. Checked over every code point, as Unicode grows with Python.
    assert not [
        hex(code)
        for code in range(0x110000)
        if chr(code).isspace() and chr(code) != " " and chr(code).isprintable()
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("One line.", "One line."),
        ("", ""),
        ("  padded  ", "padded"),
        ("two  spaces", "two spaces"),
        ("a\nb\tc\r\nd", "a b c d"),
        ("no\u00a0break\u2003em\u2028line", "no break em line"),
        ("soft\u00adhyphen kept", "soft\u00adhyphen kept"),
    ],
)
def test_one_line(value, expected):
    assert one_line(value) == expected == " ".join(value.split())


def test_export_formats_registry_names_and_media_types():
    assert set(EXPORT_FORMATS) == {"ris", "bibtex", "nbib", "csl-json", "csv", "evidb-json"}
    assert EXPORT_FORMATS["ris"].media_type == "application/x-research-info-systems"
    assert EXPORT_FORMATS["bibtex"].extension == "bib"
    assert all(fmt.name == name for name, fmt in EXPORT_FORMATS.items())


def test_stream_export_refuses_unknown_format_before_reading():
    def never_read():
        raise AssertionError("records were read")
        yield  # pragma: no cover

    with pytest.raises(UnknownExportFormat, match=r"'endnote'.*ris"):
        stream_export("endnote", never_read())


def test_writers_are_lazy_generators():
    # One record in gives text out before the next is requested: nothing is buffered.
    for name, fmt in EXPORT_FORMATS.items():
        if name == "evidb-json":
            continue  # its bridge is tested in test_evidb_json.py
        pulled = []

        def records(pulled=pulled):
            for record in (full_record(), full_record()):
                pulled.append(record)
                yield record

        chunks = fmt.write(records())
        text = ""
        while "33081809" not in text:
            text += next(chunks)
        assert len(pulled) == 1, name


def test_stream_export_sends_bounded_chunks_of_whole_records():
    records = [full_record() for _ in range(200)]
    chunks = list(stream_export("ris", records))
    assert len(chunks) > 1
    record_size = len("".join(write_ris([full_record()])))
    assert all(len(chunk) < CHUNK_CHARS + record_size for chunk in chunks)
    assert all(chunk.endswith("ER  - \n\n") for chunk in chunks)
    assert "".join(chunks) == "".join(write_ris(records))


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("123-30", ("123", "130")),
        ("398-405", ("398", "405")),
        ("e0123456", ("e0123456", "")),
        ("S12-8", ("S12", "S18")),
        ("", ("", "")),
    ],
)
def test_split_pages_expands_medline_abbreviated_end_page(pages, expected):
    assert split_pages(pages) == expected


class TestRis:
    def test_full_record(self):
        text = text_of(write_ris, [full_record()])
        lines = text.splitlines()
        assert lines[0] == "TY  - JOUR"
        assert "AU  - Müller, Jörg Anton" in lines
        assert "AU  - EPOCH Collaborators" in lines
        assert "T2  - Journal of translational medicine" in lines
        assert "JA  - J Transl Med" in lines
        assert "PY  - 2020" in lines
        assert "DA  - 2020/10/20/" in lines
        assert [line for line in lines if line[:2] in {"SP", "EP"}] == ["SP  - 398", "EP  - 405"]
        assert "DO  - 10.1186/s12967-020-02592-4" in lines
        assert "AN  - 33081809" in lines
        assert "SN  - 1479-5876" in lines
        assert "KW  - cell therapy" in lines
        assert "KW  - Femur Head Necrosis" in lines
        assert "UR  - https://pubmed.ncbi.nlm.nih.gov/33081809/" in lines
        assert text.endswith("ER  - \n\n")

    def test_values_never_span_lines(self):
        record = full_record()
        record.abstract = "First paragraph.\n\nSecond paragraph."
        text = text_of(write_ris, [record])
        assert "AB  - First paragraph. Second paragraph.\n" in text

    def test_bare_record_has_only_what_it_has(self):
        assert text_of(write_ris, [bare_record()]) == (
            "TY  - JOUR\nTI  - An untitled-looking note\nER  - \n\n"
        )

    def test_book_type(self):
        record = bare_record()
        record.publication_types = [PublicationTypeRecord("Book")]
        assert text_of(write_ris, [record]).startswith("TY  - BOOK\n")

    def test_medline_date_gives_year_without_da(self):
        record = bare_record()
        record.pub_date = PublicationDate(text="1998 Dec-1999 Jan")
        text = text_of(write_ris, [record])
        assert "PY  - 1998\n" in text
        assert "DA  -" not in text


class TestBibtex:
    def test_full_record(self):
        text = text_of(write_bibtex, [full_record()])
        assert text.startswith("@article{pmid33081809,\n")
        assert "  author = {Müller, Jörg Anton and Li, Yan and {EPOCH Collaborators}}" in text
        assert r"systematic review \& meta-analysis" in text
        assert "  month = oct" in text
        assert "  pages = {398--405}" in text
        assert "  doi = {10.1186/s12967-020-02592-4}" in text
        assert r"50\% less" in text
        assert text.endswith("}\n\n")

    def test_escapes_every_latex_special_character(self):
        assert escape_latex(r"{a}&b%c$d#e_f~g^h\i") == (
            r"\{a\}\&b\%c\$d\#e\_f\textasciitilde{}g\textasciicircum{}h\textbackslash{}i"
        )

    def test_braces_stay_balanced_whatever_the_title(self):
        record = bare_record()
        record.title = "Unbalanced } brace { and \\ backslash"
        entry = text_of(write_bibtex, [record])
        body = entry.replace("\\{", "").replace("\\}", "")
        assert body.count("{") == body.count("}")

    def test_key_without_pmid_is_author_year_word_and_unique(self):
        record = StudyRecord(
            title="The effect of Core Decompression",
            authors=[AuthorRecord(last_name="Müller-Lüdenscheidt", fore_name="Hans")],
            pub_date=PublicationDate(year=2019),
        )
        assert citation_key(record) == "mullerludenscheidt2019effect"
        text = text_of(write_bibtex, [record, record])
        assert "@article{mullerludenscheidt2019effect,\n" in text
        assert "@article{mullerludenscheidt2019effect-2,\n" in text

    def test_non_ascii_is_kept_as_utf8(self):
        assert "Jörg" in text_of(write_bibtex, [full_record()])


class TestMedline:
    def test_full_record(self):
        text = text_of(write_medline, [full_record()])
        lines = text.splitlines()
        assert lines[0] == "PMID- 33081809"
        assert "DP  - 2020 Oct 20" in lines
        assert "FAU - Müller, Jörg Anton" in lines
        assert "AU  - Müller JA" in lines
        assert "AUID- ORCID: 0000-0002-1825-0097" in lines
        assert "AD  - Department of Orthopaedics, Example University, Berlin." in lines
        assert "CN  - EPOCH Collaborators" in lines
        assert "TA  - J Transl Med" in lines
        assert "JT  - Journal of translational medicine" in lines
        assert "LID - 10.1186/s12967-020-02592-4 [doi]" in lines
        assert "AID - PMC7572400 [pmc]" in lines
        assert "PMC - PMC7572400" in lines
        assert "PT  - Systematic Review" in lines
        assert "OT  - cell therapy" in lines
        # Major qualifier starred on the qualifier, major descriptor on the descriptor.
        assert "MH  - Femur Head Necrosis/*therapy" in lines
        assert "MH  - *Mesenchymal Stem Cells" in lines
        assert "MH  - Humans" in lines
        assert "GR  - R01 CA123456/CA/NCI NIH HHS/United States" in lines
        assert "GR  - MR/K006584/1/MRC_/Medical Research Council/United Kingdom" in lines
        assert "COIS- JAM reports consulting fees from Example Pharma. Others: none." in lines
        assert text.endswith("\n\n")

    def test_long_values_wrap_at_80_columns_with_six_space_continuations(self):
        record = full_record()
        record.abstract = " ".join(["SARS-CoV-2 osteonecrosis"] * 30)
        lines = text_of(write_medline, [record]).splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("AB  - "))
        block = [lines[start]]
        for line in lines[start + 1 :]:
            if not line.startswith("      "):
                break
            block.append(line)
        assert len(block) > 3
        assert all(len(line) <= 80 for line in block)
        # Joined back the way MEDLINE readers do, nothing is lost or split.
        assert " ".join(line[6:] for line in block) == record.abstract

    def test_medline_date_kept_verbatim(self):
        record = bare_record()
        record.pub_date = PublicationDate(year=1998, text="1998 Dec-1999 Jan")
        assert "DP  - 1998 Dec-1999 Jan\n" in text_of(write_medline, [record])


class TestCslJson:
    def test_is_one_json_array(self):
        items = json.loads(text_of(write_csl_json, [full_record(), bare_record()]))
        assert len(items) == 2
        item = items[0]
        assert item["type"] == "article-journal"
        assert item["author"][0] == {"family": "Müller", "given": "Jörg Anton"}
        assert item["author"][2] == {"literal": "EPOCH Collaborators"}
        assert item["issued"] == {"date-parts": [[2020, 10, 20]]}
        assert item["container-title"] == "Journal of translational medicine"
        assert (item["volume"], item["issue"], item["page"]) == ("18", "1", "398-405")
        assert (item["DOI"], item["PMID"], item["PMCID"]) == (
            "10.1186/s12967-020-02592-4",
            "33081809",
            "PMC7572400",
        )
        assert "osteonecrosis" in item["keyword"]
        assert items[1] == {"id": "item2", "type": "article-journal", "title": items[1]["title"]}

    def test_empty_export_is_an_empty_array(self):
        assert json.loads(text_of(write_csl_json, [])) == []


class TestCsv:
    def test_header_and_one_row_per_study(self):
        text = text_of(write_csv, [full_record(), bare_record()])
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == COLUMNS
        assert len(rows) == 2
        row = rows[0]
        assert row["pmid"] == "33081809"
        assert row["year"] == "2020"
        assert row["authors"] == "Müller JA; Li Y; EPOCH Collaborators"
        assert row["design"] == "meta_analysis"
        assert row["review_status"] == "reviewed"
        assert row["population_state"] == "reported"
        assert row["safety_state"] == "not_reported"
        assert row["outcomes_state"] == "not_curated"
        assert rows[1]["population_state"] == "not_curated"
        assert row["funding"] == (
            "NCI NIH HHS (R01 CA123456, P30 CA008748); Medical Research Council (MR/K006584/1)"
        )
        assert row["conflict_of_interest"].startswith("JAM reports consulting fees")
        assert (rows[1]["funding"], rows[1]["conflict_of_interest"]) == ("", "")

    def test_funding_falls_back_to_the_funding_statement(self):
        record = bare_record()
        record.funding_statement = "Supported by the Example Foundation."
        rows = list(csv.DictReader(io.StringIO(text_of(write_csv, [record]))))
        assert rows[0]["funding"] == "Supported by the Example Foundation."

    def test_multiline_and_quoted_values_survive(self):
        record = full_record()
        record.appraisal.main_result = 'Less collapse, "clearly"\nat 2 years.'
        rows = list(csv.DictReader(io.StringIO(text_of(write_csv, [record]))))
        assert rows[0]["main_result"] == 'Less collapse, "clearly"\nat 2 years.'

    def test_formula_cells_are_neutralised(self):
        record = bare_record()
        record.title = '=HYPERLINK("http://example.org")'
        rows = list(csv.DictReader(io.StringIO(text_of(write_csv, [record]))))
        assert rows[0]["title"].startswith("'=")

    def test_header_alone_when_nothing_to_export(self):
        assert text_of(write_csv, []).splitlines() == [",".join(COLUMNS)]
