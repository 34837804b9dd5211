"""EviDB JSON export, then import into an empty database, reproduces the data."""

from __future__ import annotations

import io
import json

import pytest
from django.db.models import F

from evidence import models
from evidence.exporters import iter_study_records, stream_export
from tests.evidence.exporters.test_study_records import make_full_study

pytestmark = pytest.mark.django_db

services = pytest.importorskip("evidence.services", reason="import service not written yet")
pytest.importorskip("evidence.importers.evidb_json", reason="EviDB JSON not written yet")


def export_all() -> str:
    return "".join(stream_export("evidb-json", iter_study_records(models.Study.objects.all())))


def reimport_into_empty_database(document: str, **options) -> None:
    for model in (
        models.Citation,
        models.Work,
        models.Study,
        models.Journal,
        models.Author,
        models.MeshDescriptor,
        models.PublicationType,
        models.Concept,
    ):
        model.objects.all().delete()
    run = services.study_import(
        stream=io.BytesIO(document.encode()), source_name="export.json", format="json", **options
    )
    assert run.status == models.ImportStatus.SUCCEEDED, run.messages


def studies_of(document: str) -> list[dict]:
    return json.loads(document)["studies"]


def test_export_import_export_gives_the_same_document():
    first = make_full_study(review_status="reviewed")
    second = make_full_study()
    # The two studies cite each other: edges between studies held in the database.
    models.Citation.objects.create(citing=first.work, cited=second.work, position=3, raw_text="B.")
    from_factories = export_all()

    # Factories build graph nodes of held studies bare; the service describes such a
    # node from its study. Once data has been through the service, export and import
    # are exact inverses.
    reimport_into_empty_database(from_factories)
    exported = export_all()
    reimport_into_empty_database(exported)
    assert export_all() == exported

    assert models.Study.objects.filter(review_status="reviewed").count() == 1
    # Nothing but the description of held studies' graph nodes changed on the way.
    for before, after in zip(studies_of(from_factories), studies_of(exported), strict=True):
        assert {
            key: value for key, value in before.items() if key not in {"references", "cited_by"}
        } == {key: value for key, value in after.items() if key not in {"references", "cited_by"}}
        assert [ref["pmid"] for ref in before["references"]] == [
            ref["pmid"] for ref in after["references"]
        ]
        assert sorted(ref["raw_text"] for ref in before["cited_by"]) == sorted(
            ref["raw_text"] for ref in after["cited_by"]
        )


def test_reference_positions_survive_when_both_ends_are_exported():
    # The cited study comes first in the export (lower id) and lists the edge among its
    # cited-by; the citing study lists it first among its references.
    cited = make_full_study()
    citing = make_full_study()
    models.Citation.objects.filter(citing=citing.work).update(position=F("position") + 1)
    models.Citation.objects.create(citing=citing.work, cited=cited.work, position=1, raw_text="C.")
    exported = export_all()
    # One record a batch: the cited study's batch is written before the citing one's.
    reimport_into_empty_database(exported, batch_size=1)
    [after_citing] = [s for s in studies_of(export_all()) if s["pmid"] == str(citing.pmid)]
    assert after_citing["references"][0]["raw_text"] == "C."
