"""?format=ris|bibtex|nbib|csl-json|csv|evidb-json: the filtered studies as a file."""

from __future__ import annotations

import json

import pytest

from evidence import exporters
from evidence.exporters.study_records import QUERIES_PER_CHUNK
from tests.api.factories import full_study
from tests.factories import AppraisalFactory, StudyFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/studies/"


def body(response) -> str:
    assert response.streaming, "exports are streamed"
    return b"".join(response.streaming_content).decode()


def test_ris_export_of_a_filtered_list(api):
    wanted = [StudyFactory(title=f"Trial {n}") for n in range(3)]
    for study in wanted:
        AppraisalFactory(study=study, design="rct")
    AppraisalFactory(study=StudyFactory(title="Cohort"), design="cohort")

    response = api.get(f"{LIST}?format=ris&design=rct")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="evidb-studies.ris"'
    text = body(response)
    assert text.count("TY  - ") == 3
    assert all(f"TI  - {study.title}" in text for study in wanted)
    assert "Cohort" not in text


@pytest.mark.parametrize("name", sorted(exporters.EXPORT_FORMATS))
def test_every_format_on_the_detail(api, name):
    study = full_study(title="Core decompression for osteonecrosis")
    fmt = exporters.EXPORT_FORMATS[name]

    response = api.get(f"{LIST}{study.id}/?format={name}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith(fmt.media_type)
    assert response["Content-Disposition"] == (
        f'attachment; filename="evidb-study-{study.id}.{fmt.extension}"'
    )
    assert "Core decompression for osteonecrosis" in body(response)


def test_csl_json_is_json(api):
    StudyFactory(title="One")
    StudyFactory(title="Two")

    items = json.loads(body(api.get(f"{LIST}?format=csl-json")))

    assert sorted(item["title"] for item in items) == ["One", "Two"]


def test_format_json_is_the_api(api):
    StudyFactory()

    response = api.get(f"{LIST}?format=json")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_unknown_format_is_400_naming_it(api):
    response = api.get(f"{LIST}?format=docx")

    assert response.status_code == 400
    assert "ris" in response.json()["format"][0]


def test_exports_only_on_studies(api):
    response = api.get("/api/v1/journals/?format=ris")

    assert response.status_code == 400
    assert "format" in response.json()


def test_a_bad_filter_with_an_export_is_a_json_400(api):
    response = api.get(f"{LIST}?format=ris&year=abc")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "year" in response.json()


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize(
    ("name", "queries"),
    [
        # studies (journal joined), authorships, publication types, MeSH headings
        ("ris", 4),
        # ... and concepts, effect sizes, limitations, gaps, references, cited-by
        ("evidb-json", QUERIES_PER_CHUNK),
    ],
)
def test_export_query_count_does_not_grow(api, django_assert_num_queries, n, name, queries):
    for _ in range(n):
        full_study()
    # The exporter's reads for one chunk; the API's filter adds none of its own.
    with django_assert_num_queries(queries):
        text = body(api.get(f"{LIST}?format={name}&design=rct"))
    assert text.count("Effect of intervention") == n
