"""Hand-built StudyRecords for the writer tests (no database)."""

from __future__ import annotations

from evidence.importers.records import (
    AbstractSectionRecord,
    AppraisalRecord,
    AuthorRecord,
    GrantRecord,
    JournalRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    PublicationDate,
    PublicationTypeRecord,
    ReportedValue,
    ReportingState,
    StudyRecord,
)


def full_record() -> StudyRecord:
    """A journal article with every field the writers print."""
    return StudyRecord(
        pmid="33081809",
        doi="10.1186/s12967-020-02592-4",
        pmcid="PMC7572400",
        title="Mesenchymal stromal cells for osteonecrosis: a systematic review & meta-analysis",
        abstract=(
            "BACKGROUND: Osteonecrosis of the femoral head (ONFH) leads to collapse. "
            "METHODS: We searched PubMed. RESULTS: Twelve studies with 50% less collapse. "
            "CONCLUSIONS: Cell therapy is promising."
        ),
        abstract_sections=[
            AbstractSectionRecord("BACKGROUND", "BACKGROUND", "Osteonecrosis leads to collapse."),
            AbstractSectionRecord("METHODS", "METHODS", "We searched PubMed."),
        ],
        language="eng",
        journal=JournalRecord(
            title="Journal of translational medicine",
            iso_abbreviation="J Transl Med",
            issn="1479-5876",
            eissn="1479-5876",
            nlm_id="101190741",
            publisher="BioMed Central",
        ),
        volume="18",
        issue="1",
        pages="398-405",
        pub_date=PublicationDate(year=2020, month=10, day=20),
        authors=[
            AuthorRecord(
                last_name="Müller",
                fore_name="Jörg Anton",
                initials="JA",
                orcid="0000-0002-1825-0097",
                affiliations=["Department of Orthopaedics, Example University, Berlin."],
            ),
            AuthorRecord(last_name="Li", fore_name="Yan", initials="Y"),
            AuthorRecord(collective_name="EPOCH Collaborators"),
        ],
        publication_types=[
            PublicationTypeRecord("Journal Article", "D016428"),
            PublicationTypeRecord("Systematic Review", "D000078182"),
        ],
        mesh_headings=[
            MeshHeadingRecord(
                "Femur Head Necrosis",
                "D005271",
                is_major=True,
                qualifiers=[MeshQualifierRecord("therapy", "Q000628", is_major=True)],
            ),
            MeshHeadingRecord("Humans", "D006801"),
            MeshHeadingRecord("Mesenchymal Stem Cells", "D059630", is_major=True),
        ],
        keywords=["osteonecrosis", "cell therapy"],
        grants=[
            GrantRecord("NCI NIH HHS", "R01 CA123456", "CA", "United States"),
            GrantRecord("NCI NIH HHS", "P30 CA008748", "CA", "United States"),
            GrantRecord("Medical Research Council", "MR/K006584/1", "MRC_", "United Kingdom"),
        ],
        conflict_of_interest="JAM reports consulting fees from Example Pharma. Others: none.",
        review_status="reviewed",
        appraisal=AppraisalRecord(
            design="meta_analysis",
            population=ReportedValue(ReportingState.REPORTED, "Adults with ONFH"),
            sample_size=ReportedValue(ReportingState.REPORTED, "612"),
            safety=ReportedValue(ReportingState.NOT_REPORTED),
            certainty="low",
            risk_of_bias="some_concerns",
            risk_of_bias_tool="robis",
            main_result="Less collapse with cell therapy (RR 0.5).",
        ),
    )


def bare_record() -> StudyRecord:
    """A record with almost nothing: a title, no identifiers, no journal."""
    return StudyRecord(title="An untitled-looking note")
