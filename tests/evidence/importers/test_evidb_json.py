from __future__ import annotations

import dataclasses
import gzip
import io
import json
from collections.abc import Iterator

import pytest

from evidence.importers import article_page, evidb_json, evidence_summary
from evidence.importers.records import (
    AbstractSectionRecord,
    AppraisalRecord,
    AuthorRecord,
    ConceptRecord,
    EffectSizeRecord,
    GrantRecord,
    InvalidRecord,
    JournalRecord,
    LimitationRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    ParseError,
    PublicationDate,
    PublicationTypeRecord,
    RelatedArticleRecord,
    ReportedValue,
    ReportingState,
    ResearchGapRecord,
    SourceLocation,
    StudyRecord,
    WorkRecord,
)


def rich_record(number: int = 1) -> StudyRecord:
    """A record with every nested type filled in, and non-ASCII text."""
    return StudyRecord(
        location=SourceLocation("origin.xml", record=number, line=10),
        pmid=str(33081809 + number),
        doi=f"10.1186/s12967-020-{number:05d}",
        pmcid=f"PMC{7000000 + number}",
        title=f"Mesenchymal Stromal Cells for Osteonecrosis {number} — ΑΒΓ",
        abstract="BACKGROUND: Bone. RESULTS: Better.",
        abstract_sections=[
            AbstractSectionRecord(label="BACKGROUND", category="BACKGROUND", text="Bone."),
            AbstractSectionRecord(label="RESULTS", category="RESULTS", text="Better."),
        ],
        language="eng",
        journal=JournalRecord(
            title="Journal of Translational Medicine",
            iso_abbreviation="J Transl Med",
            issn="1479-5876",
            eissn="1479-5876",
            nlm_id="101190741",
            publisher="Biomed Central",
        ),
        volume="18",
        issue="1",
        pages="399",
        pub_date=PublicationDate(year=2020, month=10, day=21, text="2020 Oct 21"),
        authors=[
            AuthorRecord(
                last_name="Müller",
                fore_name="Anna",
                initials="A",
                orcid="0000-0002-1825-0097",
                affiliations=["Uni A", "Uni B"],
            ),
            AuthorRecord(collective_name="Canadian Respiratory Research Network"),
        ],
        publication_types=[PublicationTypeRecord(name="Review", ui="D016454")],
        mesh_headings=[
            MeshHeadingRecord(
                descriptor="Osteonecrosis",
                ui="D010020",
                is_major=True,
                qualifiers=[
                    MeshQualifierRecord(name="therapy", ui="Q000628", is_major=True),
                    MeshQualifierRecord(name="etiology"),
                ],
            )
        ],
        keywords=["MSC", "osteonecrosis"],
        citation_count=11,
        references=[
            WorkRecord(
                raw_text="Pepke W . Core Decompression. Orthop Rev (Pavia). 2016; 8(1):6162.",
                authors="Pepke W",
                title="Core Decompression",
                journal="Orthop Rev (Pavia)",
                year=2016,
                volume="8",
                issue="1",
                pages="6162",
                pmcid="PMC4821226",
                doi="10.4081/or.2016.6162",
            )
        ],
        cited_by=[WorkRecord(title="Citing", pmid="38745949", year=None)],
        related_articles=[
            RelatedArticleRecord(relation="ErratumIn", ref_source="J X 2021", pmid="1")
        ],
        grants=[GrantRecord("NIDDK NIH HHS", "R01 DK1", "DK", "United States")],
        funding_statement="Supported by the NIDDK.",
        conflict_of_interest="None declared.",
        appraisal=AppraisalRecord(
            design="rct",
            population=ReportedValue(ReportingState.REPORTED, "adults"),
            sample_size=ReportedValue(ReportingState.REPORTED, "120"),
            intervention=ReportedValue(ReportingState.NOT_REPORTED),
            comparator=ReportedValue(ReportingState.NOT_APPLICABLE),
            main_result="It worked.",
            practice_relevance="Use it.",
            risk_of_bias="low",
            risk_of_bias_tool="RoB 2",
            certainty="moderate",
            notes="None.",
            concepts=[
                ConceptRecord(name="NF-κB", kind="mechanism"),
                ConceptRecord(name="osteonecrosis", kind="condition"),
            ],
        ),
        effect_sizes=[
            EffectSizeRecord(
                outcome="HbA1c",
                measure="MD",
                value=-1.1,
                ci_lower=-1.4,
                ci_upper=-0.8,
                ci_level=95,
                p_value=0.001,
                n_intervention=60,
                n_comparator=60,
                timepoint="26 weeks",
                certainty="high",
                note="MD -1.1",
            ),
            EffectSizeRecord(measure="OR", value=2.0),
        ],
        limitations=[LimitationRecord(description="Small sample", category="sample_size")],
        research_gaps=[
            ResearchGapRecord(
                description="Few trials", category="methodology", future_direction="More"
            )
        ],
        review_status="reviewed",
        warnings=["dropped on export"],
    )


def dump(records) -> str:
    out = io.StringIO()
    evidb_json.dump_records(records, out)
    return out.getvalue()


def parse_bytes(data: bytes, name: str = "export.json") -> list:
    return list(evidb_json.parse(io.BytesIO(data), source_name=name))


def without_import_state(record: StudyRecord) -> StudyRecord:
    return dataclasses.replace(record, location=SourceLocation(), warnings=[])


def test_round_trip_of_rich_records_is_exact() -> None:
    records = [rich_record(1), rich_record(2), StudyRecord(title="Bare minimum")]
    parsed = parse_bytes(dump(records).encode("utf-8"))
    assert [without_import_state(item) for item in parsed] == [
        without_import_state(record) for record in records
    ]
    assert isinstance(parsed[0].appraisal.population.state, ReportingState)
    assert [item.location for item in parsed] == [
        SourceLocation("export.json", record=1, line=2),
        SourceLocation("export.json", record=2, line=3),
        SourceLocation("export.json", record=3, line=4),
    ]
    assert all(item.warnings == [] for item in parsed)


def test_round_trip_of_the_seed_records(seed_path) -> None:
    records = []
    for module, name in (
        (evidence_summary, "000_0dd471af31d152d3.txt"),
        (article_page, "002_aa5c579476d7ef13.txt"),
    ):
        with seed_path(name).open("rb") as stream:
            records.extend(module.parse(stream, source_name=name))
    parsed = parse_bytes(dump(records).encode("utf-8"))
    assert [without_import_state(item) for item in parsed] == [
        without_import_state(record) for record in records
    ]
    assert parsed[1].cited_by[0].pmcid == "PMC11091469"


def test_export_layout_excludes_location_and_warnings() -> None:
    document = json.loads(dump([rich_record()]))
    assert document["format"] == "evidb"
    assert document["version"] == 1
    (study,) = document["studies"]
    assert "location" not in study
    assert "warnings" not in study
    assert study["appraisal"]["population"] == {"state": "reported", "value": "adults"}
    assert study["pub_date"] == {"year": 2020, "month": 10, "day": 21, "text": "2020 Oct 21"}
    assert json.loads(dump([])) == {"format": "evidb", "version": 1, "studies": []}


def test_dump_streams_each_record_before_pulling_the_next() -> None:
    out = io.StringIO()

    def records() -> Iterator[StudyRecord]:
        for number in range(1, 4):
            if number > 1:
                # The previous study is already written when the next one is requested.
                assert f'"title": "Study {number - 1}"' in out.getvalue()
            else:
                assert out.getvalue().startswith('{"format": "evidb", "version": 1')
            yield StudyRecord(title=f"Study {number}")

    evidb_json.dump_records(records(), out)
    assert len(json.loads(out.getvalue())["studies"]) == 3


def test_parse_across_many_read_chunks(monkeypatch) -> None:
    # A tiny chunk size forces values, numbers and UTF-8 sequences to straddle reads.
    monkeypatch.setattr(evidb_json, "_CHUNK_SIZE", 7)
    records = [rich_record(number) for number in range(1, 30)]
    parsed = parse_bytes(dump(records).encode("utf-8"))
    assert [without_import_state(item) for item in parsed] == [
        without_import_state(record) for record in records
    ]
    assert parsed[-1].location.line == 30


def test_bare_list_of_studies_is_accepted() -> None:
    data = json.dumps([evidb_json.study_to_dict(rich_record()), {"title": "Two"}]).encode()
    first, second = parse_bytes(data)
    assert without_import_state(first) == without_import_state(rich_record())
    assert second.title == "Two"
    assert second.location.record == 2


def test_studies_before_the_header_are_checked_then_yielded() -> None:
    data = b'{"studies": [{"title": "Early"}], "version": 1, "format": "evidb"}'
    (record,) = parse_bytes(data)
    assert record.title == "Early"
    bad = b'{"studies": [{"title": "Early"}], "version": 1, "format": "other"}'
    with pytest.raises(ParseError, match="format is 'other'"):
        parse_bytes(bad)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('"format": "zotero", "version": 1', "not an EviDB export: format is 'zotero'"),
        ('"version": 1', "format is None"),
        ('"format": "evidb", "version": 2', "unsupported EviDB JSON version 2"),
        ('"format": "evidb", "version": true', "unsupported EviDB JSON version True"),
        ('"format": "evidb", "version": "1"', "unsupported EviDB JSON version '1'"),
    ],
)
def test_wrong_format_or_version_is_fatal(header: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_bytes(f'{{{header}, "studies": [{{"title": "x"}}]}}'.encode())


@pytest.mark.parametrize(
    ("study", "reason"),
    [
        ('"just a string"', "studies[1]: expected object, got string"),
        (
            '{"authors": [{"last_name": 5}]}',
            "studies[1].authors[0].last_name: expected string, got integer",
        ),
        ('{"citation_count": "11"}', "studies[1].citation_count: expected integer, got string"),
        ('{"citation_count": true}', "studies[1].citation_count: expected integer, got boolean"),
        ('{"journal": []}', "studies[1].journal: expected object, got list"),
        ('{"keywords": "a, b"}', "studies[1].keywords: expected list, got string"),
        ('{"title": null}', "studies[1].title: expected string, got null"),
        (
            '{"mesh_headings": [{"ui": "D1"}]}',
            "studies[1].mesh_headings[0].descriptor: required field missing",
        ),
        (
            '{"appraisal": {"safety": {"state": "maybe"}}}',
            "studies[1].appraisal.safety.state: expected one of",
        ),
        (
            '{"effect_sizes": [{"value": "1.5"}]}',
            "studies[1].effect_sizes[0].value: expected number, got string",
        ),
        # Text no database can store (found by fuzzing: a lone surrogate ended the import
        # with a traceback from the record's digest; PostgreSQL refuses NUL).
        ('{"title": "a\\u0000b"}', "studies[1].title: contains a NUL character"),
        (
            '{"references": [{"year": 1000000000000000000000}]}',
            "studies[1].references[0].year: integer 1000000000000000000000 is out of range",
        ),
        (
            '{"keywords": ["ok", "\\ud800"]}',
            "studies[1].keywords[1]: contains an unpaired surrogate (U+D800)",
        ),
    ],
)
def test_bad_study_is_an_invalid_record_and_the_rest_still_parse(study: str, reason: str) -> None:
    studies = f'[{{"title": "ok"}}, {study}, {{"title": "after"}}]'
    data = f'{{"format": "evidb", "version": 1, "studies": {studies}}}'
    first, bad, after = parse_bytes(data.encode())
    assert first.title == "ok"
    assert isinstance(bad, InvalidRecord)
    assert bad.reason.startswith(reason)
    assert (bad.location.source, bad.location.record) == ("export.json", 2)
    assert after.title == "after"
    assert after.location.record == 3


def test_numbers_are_accepted_for_float_fields_and_null_for_optionals() -> None:
    data = b'[{"effect_sizes": [{"value": 2, "ci_lower": null}], "journal": null}]'
    (record,) = parse_bytes(data)
    assert record.effect_sizes[0].value == 2.0
    assert isinstance(record.effect_sizes[0].value, float)
    assert record.effect_sizes[0].ci_lower is None
    assert record.journal is None


def test_unknown_keys_are_warnings_not_failures() -> None:
    data = (
        b'{"format": "evidb", "version": 1, "exported_by": "x", "studies": '
        b'[{"title": "t", "colour": "red", "journal": {"title": "J", "impact": 3}}]}'
    )
    (record,) = parse_bytes(data)
    assert record.title == "t"
    assert record.journal == JournalRecord(title="J")
    assert record.warnings == [
        "exported_by: unknown top-level field, ignored",
        "studies[0].colour: unknown field, ignored",
        "studies[0].journal.impact: unknown field, ignored",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b'"text"', "expected an object or a list"),
        (b'{"format": "evidb", "version": 1}', 'no "studies" list'),
        (b'{"format": "evidb", "version": 1, "studies": {}}', '"studies" must be a list'),
        (b'{"format": "evidb", "version": 1, "studies": [{"title": "x"}', "expected ',' or ']'"),
        (b'{"format": "evidb", "version": 1, "studies": [{"title": "x}]}', "invalid JSON"),
        (b'[{"title": "x"}] trailing', "unexpected 't' after the document"),
        (b'[{"title": "caf\xe9"}]', "not UTF-8"),
    ],
)
def test_unreadable_json_is_a_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_bytes(data, name="broken.json")
    assert info.value.location.source == "broken.json"


def test_invalid_json_error_names_the_line() -> None:
    text = dump([StudyRecord(title="a"), StudyRecord(title="b")]).replace(
        '"title": "b"', '"title": b'
    )
    with pytest.raises(ParseError) as info:
        parse_bytes(text.encode())
    assert info.value.location.line == 3


def test_utf8_bom_is_tolerated() -> None:
    (record,) = parse_bytes(b'\xef\xbb\xbf[{"title": "bom"}]')
    assert record.title == "bom"


def test_reads_from_a_gzip_stream() -> None:
    compressed = gzip.compress(dump([rich_record()]).encode())
    with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
        (record,) = list(evidb_json.parse(stream, source_name="x.json.gz"))
    assert without_import_state(record) == without_import_state(rich_record())


def test_a_file_cannot_set_the_digest_a_study_is_matched_by() -> None:
    # source_digest is the digest of a record's bytes in a PubMed XML file; taken from
    # JSON, 5,000 characters of it overflowed the fingerprint column (found by fuzzing).
    data = b'{"format": "evidb", "version": 1, "studies": [{"title": "A", "source_digest": "xx"}]}'

    (record,) = parse_bytes(data)

    assert (record.title, record.source_digest, record.warnings) == ("A", "", [])
    assert "source_digest" not in evidb_json.study_to_dict(record)
