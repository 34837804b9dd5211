"""The node rule: a work appears once, whoever cites it, and imports link it later."""

from __future__ import annotations

import pytest

from evidence.models import Citation, ImportStatus, Study, Work
from tests.evidence.services.conftest import medline, medline_record

pytestmark = pytest.mark.django_db


def evidb_json(*studies: str) -> bytes:
    return ('{"format": "evidb", "version": 1, "studies": [' + ",".join(studies) + "]}").encode()


def test_reference_links_to_a_study_already_held(run_import):
    run_import(medline(medline_record("200", "The cited study")))
    data = evidb_json(
        '{"pmid": "100", "title": "Citing study", '
        '"references": [{"pmid": "200", "raw_text": "Cited. 2020."}]}'
    )
    run = run_import(data, name="citing.json")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    cited = Study.objects.get(pmid=200)
    edge = Citation.objects.get()
    assert edge.citing.study.pmid == 100
    assert edge.cited.study == cited
    assert edge.raw_text == "Cited. 2020."
    assert Work.objects.count() == 2


def test_importing_a_cited_work_later_resolves_every_edge_without_duplicate(run_import):
    run_import(
        evidb_json(
            '{"pmid": "100", "title": "A", "references": [{"pmid": "300", "title": "Later"}]}',
            '{"pmid": "101", "title": "B", "references": [{"doi": "10.1000/LATER"}]}',
        ),
        name="refs.json",
    )
    assert Work.objects.filter(study__isnull=True).count() == 2  # two nodes, not yet known same
    run = run_import(medline(medline_record("300", "Later", "LID - 10.1000/later [doi]")))
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    later = Study.objects.get(pmid=300)
    # The PMID node and the DOI node were one work: merged, both edges kept.
    assert Work.objects.filter(study=later).count() == 1
    node = later.work
    assert (node.pmid, node.doi) == (300, "10.1000/later")
    citing = sorted(
        Citation.objects.filter(cited=node).values_list("citing__study__pmid", flat=True)
    )
    assert citing == [100, 101]
    assert Work.objects.count() == 3


def test_cited_by_entries_become_incoming_edges_and_resolve_later(seed_path, run_import):
    page = seed_path("002_aa5c579476d7ef13.txt").read_bytes()
    run = run_import(page, name="article.txt")
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    study = Study.objects.get(pmid=33081809)
    assert study.citation_count == 11
    incoming = Citation.objects.filter(cited__study=study)
    outgoing = Citation.objects.filter(citing__study=study)
    assert incoming.count() == 5
    assert outgoing.count() == 5
    assert not incoming.filter(citing__study__isnull=False).exists()

    # One of the citing articles is imported: its node becomes the study, no duplicate.
    run_import(
        medline(
            medline_record(
                "38745949",
                "Unraveling the genetic basis of the causal association",
                "LID - 10.3389/fendo.2024.1344917 [doi]",
                year="2024",
            )
        )
    )
    citing_study = Study.objects.get(pmid=38745949)
    assert incoming.filter(citing__study=citing_study).count() == 1
    assert Work.objects.filter(pmid=38745949).count() == 1
    assert Work.objects.count() == 11  # the article, 5 citing, 5 references


def test_reimporting_a_citing_study_adds_no_edges(run_import):
    data = evidb_json(
        '{"pmid": "100", "title": "A", "references": ['
        '{"pmid": "300"}, {"raw_text": "Unidentified reference, 1990."}]}'
    )
    run_import(data, name="a.json")
    edges = Citation.objects.count()
    works = Work.objects.count()
    changed = data.replace(b'"title": "A"', b'"title": "A, revised"')
    run = run_import(changed, name="a2.json")
    assert run.updated == 1
    assert (Citation.objects.count(), Work.objects.count()) == (edges, works)


def test_study_does_not_cite_itself(run_import):
    run = run_import(
        evidb_json('{"pmid": "100", "title": "Self", "references": [{"pmid": "100"}]}'),
        name="self.json",
    )
    assert run.status == ImportStatus.SUCCEEDED
    assert Citation.objects.count() == 0


def _node_of(pmid: int) -> tuple:
    return (
        Work.objects.filter(pmid=pmid)
        .values_list(
            "title",
            "authors",
            "journal",
            "year",
            "volume",
            "issue",
            "pages",
            "raw_text",
            "study__pmid",
        )
        .get()
    )


def test_a_studys_node_is_the_same_however_the_import_was_batched(run_import):
    citing = evidb_json(
        '{"pmid": "100", "title": "Citing study", "references": '
        '[{"pmid": "200", "raw_text": "Smith J. Cited. J Test. 2020."}]}'
    )
    cited = medline(medline_record("200", "The cited study", "VI  - 12", "PG  - 1-9"))

    # The citer first, then the cited study in a later import (or batch)...
    run_import(citing, name="citing.json")
    run_import(cited)
    later = _node_of(200)
    Study.objects.all().delete()
    Work.objects.all().delete()
    # ...and both in one batch, the cited study first so that it makes its own node.
    run_import(cited)
    run_import(citing, name="citing.json")
    together = _node_of(200)

    assert later == together
    assert later[0] == "The cited study" and later[-1] == 200
    # The reference as the citer printed it is kept on the edge.
    assert Citation.objects.get().raw_text == "Smith J. Cited. J Test. 2020."
