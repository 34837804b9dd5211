"""Derived values of a parsed record."""

from __future__ import annotations

import pytest

from evidence.importers.records import (
    PublicationTypeRecord,
    RelatedArticleRecord,
    StudyRecord,
)
from evidence.services.values import is_retracted


@pytest.mark.parametrize(
    ("relation", "retracted"),
    [
        ("RetractionIn", True),
        # Retracted, then republished in corrected form: the original is retracted.
        ("RetractedandRepublishedIn", True),
        # The record is the retraction notice, not a retracted study.
        ("RetractionOf", False),
        ("RetractedandRepublishedFrom", False),
        ("CommentIn", False),
        ("ErratumIn", False),
    ],
)
def test_a_study_is_retracted_by_what_its_related_articles_say(relation, retracted):
    record = StudyRecord(title="A trial")
    record.related_articles = [RelatedArticleRecord(relation=relation, pmid="900")]

    assert is_retracted(record) is retracted


def test_the_retracted_publication_type_marks_a_study_retracted():
    record = StudyRecord(title="A trial")
    assert not is_retracted(record)
    record.publication_types = [PublicationTypeRecord(name="Retracted Publication")]
    assert is_retracted(record)
