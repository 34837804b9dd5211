"""MEDLINE text (PubMed's "Save → PubMed format", .nbib), tags in PubMed's order."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator

from evidence.exporters.common import (
    MONTH_ABBREVIATIONS,
    abstract_text,
    inverted_name,
    publication_year,
    short_name,
)
from evidence.importers.records import GrantRecord, MeshHeadingRecord, StudyRecord

LINE_WIDTH = 80
_CONTINUATION = " " * 6


def _field(tag: str, value: str | int | None) -> str:
    """'TI  - ...' wrapped at 80 columns with 6-space continuation lines.

    Breaks only at spaces: MEDLINE readers join continuation lines with a space, so a
    break inside a hyphenated word ('COVID-19') would come back as 'COVID- 19'.
    """
    if value is None:
        return ""
    text = " ".join(str(value).split())
    if not text:
        return ""
    lines = textwrap.wrap(
        text,
        width=LINE_WIDTH,
        initial_indent=f"{tag:<4}- ",
        subsequent_indent=_CONTINUATION,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines) + "\n"


def _date_published(record: StudyRecord) -> str:
    """DP as PubMed writes it: '2020 Oct 20', '2020 Oct', '2020' or a MedlineDate."""
    date = record.pub_date
    if date.year is not None and date.month:
        text = f"{date.year} {MONTH_ABBREVIATIONS[date.month - 1]}"
        return f"{text} {date.day}" if date.day else text
    year = publication_year(date)
    # A kept MedlineDate ('1998 Dec-1999 Jan', '2020 Spring') is already PubMed's form.
    if date.text and year is not None and date.text.lstrip().startswith(str(year)):
        return date.text
    return str(year) if year is not None else ""


def _mesh_line(heading: MeshHeadingRecord) -> str:
    """'*Descriptor' or 'Descriptor/*qualifier/other': the star marks the major topic.

    A heading stored as major because one of its qualifiers is starred keeps the star on
    that qualifier, as PubMed prints it.
    """
    qualifier_major = any(qualifier.is_major for qualifier in heading.qualifiers)
    descriptor = heading.descriptor
    if heading.is_major and not qualifier_major:
        descriptor = f"*{descriptor}"
    parts = [descriptor]
    for qualifier in heading.qualifiers:
        parts.append(f"*{qualifier.name}" if qualifier.is_major else qualifier.name)
    return "/".join(parts)


def _grant_line(grant: GrantRecord) -> str:
    """GR as PubMed writes it: number/code/agency/country, the missing parts left out."""
    parts = (grant.grant_id, grant.acronym, grant.agency, grant.country)
    return "/".join(part for part in parts if part)


def format_record(record: StudyRecord) -> str:
    journal = record.journal
    out: list[str] = [_field("PMID", record.pmid)]
    if journal is not None:
        if journal.issn:
            out.append(_field("IS", f"{journal.issn} (Print)"))
        if journal.eissn and journal.eissn != journal.issn:
            out.append(_field("IS", f"{journal.eissn} (Electronic)"))
    out += [
        _field("VI", record.volume),
        _field("IP", record.issue),
        _field("DP", _date_published(record)),
        _field("TI", record.title),
        _field("PG", record.pages),
    ]
    if record.doi:
        out.append(_field("LID", f"{record.doi} [doi]"))
    out.append(_field("AB", abstract_text(record)))
    for author in record.authors:
        if author.collective_name and not author.last_name:
            out.append(_field("CN", author.collective_name))
            continue
        out.append(_field("FAU", inverted_name(author)))
        out.append(_field("AU", short_name(author)))
        if author.orcid:
            out.append(_field("AUID", f"ORCID: {author.orcid}"))
        out += [_field("AD", affiliation) for affiliation in author.affiliations]
    out.append(_field("LA", record.language))
    out += [_field("GR", _grant_line(grant)) for grant in record.grants]
    out += [_field("PT", ptype.name) for ptype in record.publication_types]
    if journal is not None:
        out += [
            _field("TA", journal.iso_abbreviation or journal.title),
            _field("JT", journal.title),
            _field("JID", journal.nlm_id),
        ]
    out += [_field("MH", _mesh_line(heading)) for heading in record.mesh_headings]
    out.append(_field("PMC", record.pmcid))
    out += [_field("OT", keyword) for keyword in record.keywords]
    out.append(_field("COIS", record.conflict_of_interest))
    if record.doi:
        out.append(_field("AID", f"{record.doi} [doi]"))
    if record.pmcid:
        out.append(_field("AID", f"{record.pmcid} [pmc]"))
    return "".join(out) + "\n"


def write_medline(records: Iterable[StudyRecord]) -> Iterator[str]:
    for record in records:
        yield format_record(record)
