"""Builders for API tests: whole studies with everything the detail shows."""

from __future__ import annotations

from evidence import models
from tests.factories import (
    AppraisalFactory,
    AuthorFactory,
    AuthorshipFactory,
    CitationFactory,
    ConceptFactory,
    EffectSizeFactory,
    LimitationFactory,
    MeshDescriptorFactory,
    PublicationTypeFactory,
    ResearchGapFactory,
    StudyFactory,
    StudyMeshHeadingFactory,
    WorkFactory,
)


def full_study(*, references: int = 3, citing: int = 1, **study_fields) -> models.Study:
    """A study with three authors, two MeSH headings, a publication type, an appraisal
    with a concept, one effect size, limitation and research gap, ``references`` cited
    works and ``citing`` citing works."""
    study = StudyFactory(**study_fields)
    for position in (1, 2, 3):
        AuthorshipFactory(study=study, author=AuthorFactory(), position=position)
    StudyMeshHeadingFactory(
        study=study, descriptor=MeshDescriptorFactory(name="Femur Head Necrosis"), is_major=True
    )
    StudyMeshHeadingFactory(study=study, descriptor=MeshDescriptorFactory(name="Humans"))
    study.publication_types.add(PublicationTypeFactory(name="Journal Article"))
    appraisal = AppraisalFactory(study=study)
    appraisal.concepts.add(ConceptFactory(name="HIF-1α/VEGF"))
    EffectSizeFactory(study=study)
    LimitationFactory(study=study)
    ResearchGapFactory(study=study)
    node = WorkFactory(study=study, pmid=study.pmid, title=study.title)
    for position in range(1, references + 1):
        CitationFactory(citing=node, cited=WorkFactory(), position=position)
    for _ in range(citing):
        CitationFactory(citing=WorkFactory(), cited=node, position=None)
    return study
