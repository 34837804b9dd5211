"""What EviDB writes, EviDB reads: each citation export parsed by the project's parser."""

from __future__ import annotations

import importlib
import io

import pytest

from evidence.exporters import stream_export
from evidence.importers.records import AuthorRecord, PublicationDate, StudyRecord
from tests.evidence.exporters.records import full_record

PARSERS = {"ris": "ris", "nbib": "medline", "bibtex": "bibtex"}


def tricky_record() -> StudyRecord:
    """No PMID, LaTeX specials, a long wrapped title, a year-only date."""
    return StudyRecord(
        doi="10.1002/(sici)1097-0258_x",
        title=(
            "Core decompression & 50% fewer collapses: {braced} terms, under_scores and "
            "a title long enough to be wrapped over several MEDLINE lines at eighty columns"
        ),
        authors=[
            AuthorRecord(last_name="O'Brien", fore_name="Siobhán", initials="S"),
            AuthorRecord(last_name="van der Berg", fore_name="Anna Maria", initials="AM"),
        ],
        pub_date=PublicationDate(year=2017),
    )


def parse_with(format_name: str, text: str) -> list[StudyRecord]:
    module_name = f"evidence.importers.{PARSERS[format_name]}"
    try:
        parser = importlib.import_module(module_name)
    except ModuleNotFoundError:
        pytest.skip(f"{module_name} not written yet")
    items = list(parser.parse(io.BytesIO(text.encode("utf-8")), source_name=f"x.{format_name}"))
    return [item for item in items if isinstance(item, StudyRecord)]


@pytest.mark.parametrize("format_name", list(PARSERS))
def test_identity_survives_export_and_parse(format_name):
    records = [full_record(), tricky_record()]
    parsed = parse_with(format_name, "".join(stream_export(format_name, records)))

    assert len(parsed) == len(records)
    for original, back in zip(records, parsed, strict=True):
        assert back.title == original.title
        assert back.doi == original.doi
        assert back.pmid == original.pmid
        assert back.pub_date.year == original.pub_date.year
        assert [(a.last_name, a.fore_name) for a in back.authors if a.last_name] == [
            (a.last_name, a.fore_name) for a in original.authors if a.last_name
        ]
        collective = [a.collective_name for a in original.authors if a.collective_name]
        assert [a.collective_name or a.last_name for a in back.authors if not a.fore_name] == (
            collective
        )


@pytest.mark.parametrize("format_name", list(PARSERS))
def test_a_summary_with_only_its_abstract_survives_export_and_parse(format_name):
    # An imported evidence summary has no title or identifier; its RIS, BibTeX or
    # MEDLINE export was refused on the way back ("neither a title nor an identifier").
    summary = StudyRecord(abstract="Background: a trial of drug A. Results: less pain.")

    (back,) = parse_with(format_name, "".join(stream_export(format_name, [summary])))

    assert back.abstract == summary.abstract
    assert (back.title, back.pmid, back.doi) == ("", "", "")


def test_grants_and_interests_survive_medline_export_and_parse():
    # MEDLINE is the citation format with a place for them (GR, COIS); a grant number
    # holding slashes ("MR/K006584/1") must come back whole.
    record = full_record()

    (back,) = parse_with("nbib", "".join(stream_export("nbib", [record])))

    assert back.grants == record.grants
    assert back.conflict_of_interest == record.conflict_of_interest
