"""CSV: one row a study, for spreadsheets and R/pandas; identifiers, appraisal summary."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from evidence.exporters.common import publication_year, short_name
from evidence.importers.records import AppraisalRecord, StudyRecord

REPORTED_FIELDS = (
    "population",
    "sample_size",
    "intervention",
    "comparator",
    "outcomes",
    "safety",
    "effect_measures",
)
COLUMNS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "year",
    "journal",
    "authors",
    "design",
    "review_status",
    "certainty",
    "risk_of_bias",
    *(f"{field}_state" for field in REPORTED_FIELDS),
    "main_result",
    # Funding sources and declared interests: the table is a data-extraction sheet, and
    # these are items of every such sheet (Cochrane Handbook, chapter 5).
    "funding",
    "conflict_of_interest",
)
# A cell starting with one of these is run as a formula by Excel and LibreOffice
# (CSV injection); a leading apostrophe makes it text. No column here is numeric-signed.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def funding_summary(record: StudyRecord) -> str:
    """The funders, each once, with their grant numbers: 'NCI NIH HHS (R01 CA1, P30 CA2);
    Wellcome Trust'; the source's funding statement when it names no funder."""
    numbers: dict[str, list[str]] = {}
    for grant in record.grants:
        agency = grant.agency or grant.acronym
        ids = numbers.setdefault(agency, [])
        if grant.grant_id and grant.grant_id not in ids:
            ids.append(grant.grant_id)
    if not numbers:
        return record.funding_statement
    return "; ".join(
        f"{agency} ({', '.join(ids)})" if agency and ids else agency or ", ".join(ids)
        for agency, ids in numbers.items()
    )


def csv_row(record: StudyRecord) -> list[str]:
    appraisal = record.appraisal or AppraisalRecord()
    journal = record.journal
    values: list[object] = [
        record.pmid,
        record.doi,
        record.pmcid,
        record.title,
        publication_year(record.pub_date),
        journal.title if journal else "",
        "; ".join(short_name(author) for author in record.authors),
        appraisal.design,
        record.review_status,
        appraisal.certainty,
        appraisal.risk_of_bias,
        # With no appraisal at all, every field is simply not curated yet.
        *(str(getattr(appraisal, field).state) for field in REPORTED_FIELDS),
        appraisal.main_result,
        funding_summary(record),
        record.conflict_of_interest,
    ]
    return [_cell(value) for value in values]


def write_csv(records: Iterable[StudyRecord]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for record in records:
        writer.writerow(csv_row(record))
        yield flush()
