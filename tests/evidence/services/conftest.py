from __future__ import annotations

import io

import pytest

from evidence.models import Citation, Study, Work
from evidence.services import study_import


def medline(*records: str) -> bytes:
    return ("\n\n".join(records) + "\n").encode()


def medline_record(pmid: str, title: str, *extra: str, year: str = "2020") -> str:
    lines = [
        f"PMID- {pmid}",
        f"TI  - {title}",
        f"DP  - {year} Mar 5",
        "FAU - Smith, Jane",
        "AU  - Smith J",
        "TA  - J Test",
        "JT  - Journal of Tests",
        *extra,
    ]
    return "\n".join(lines)


@pytest.fixture
def run_import():
    """run_import(data, name='x.nbib', **options) -> ImportRun."""

    def run(data: bytes, name: str = "upload.nbib", **options):
        return study_import(stream=io.BytesIO(data), source_name=name, **options)

    return run


def snapshot() -> dict[str, int | list]:
    """Everything an import writes, to compare before/after."""
    from evidence import models

    counts = {
        model.__name__: model.objects.count()
        for model in (
            models.Study,
            models.Journal,
            models.Author,
            models.Authorship,
            models.StudyMeshHeading,
            models.MeshDescriptor,
            models.PublicationType,
            models.Appraisal,
            models.Limitation,
            models.ResearchGap,
            models.EffectSize,
            models.Concept,
            Work,
            Citation,
        )
    }
    counts["studies"] = list(
        Study.objects.order_by("id").values_list("id", "pmid", "doi", "title", "updated_at")
    )
    counts["edges"] = sorted(Citation.objects.values_list("citing_id", "cited_id"))
    return counts
