"""Bibliographic records: studies as PubMed describes them, with journals and authors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from evidence import identifiers
from evidence.models.choices import DatePrecision, ReviewStatus

MIN_YEAR = 1000
MAX_YEAR = 2100


def year_constraint(field: str, name: str) -> models.CheckConstraint:
    """An impossible year is refused by the database, not only by forms."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": MIN_YEAR, f"{field}__lte": MAX_YEAR}),
        name=name,
        violation_error_message=f"Year must be between {MIN_YEAR} and {MAX_YEAR}.",
    )


def identifier_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The canonical forms of evidence.identifiers, enforced where data lands."""
    return [
        models.CheckConstraint(
            condition=Q(doi__isnull=True) | (Q(doi=Lower("doi")) & Q(doi__startswith="10.")),
            name=f"{prefix}_doi_canonical",
            violation_error_message="DOI must be lower case and start with '10.'.",
        ),
        models.CheckConstraint(
            condition=Q(pmcid__isnull=True) | Q(pmcid__startswith="PMC"),
            name=f"{prefix}_pmcid_canonical",
            violation_error_message="PMCID must start with 'PMC'.",
        ),
    ]


def clean_identifiers(instance: models.Model) -> None:
    """Normalise pmid/doi/pmcid in place; blank becomes NULL so uniqueness ignores it."""
    errors: dict[str, str] = {}
    for name, normalise in (
        ("pmid", identifiers.normalize_pmid),
        ("doi", identifiers.normalize_doi),
        ("pmcid", identifiers.normalize_pmcid),
    ):
        raw = getattr(instance, name)
        try:
            value = normalise(raw if raw is None else str(raw))
        except identifiers.InvalidIdentifier as exc:
            errors[name] = str(exc)
            continue
        if name == "pmid":
            setattr(instance, name, int(value) if value else None)
        else:
            setattr(instance, name, value or None)
    if errors:
        raise ValidationError(errors)


class Journal(models.Model):
    # Matching key (issn:XXXX-XXXX, nlm:ID or title:normalised) so that concurrent
    # imports converge on one row per journal.
    key = models.CharField(max_length=300, unique=True, editable=False)
    title = models.CharField(max_length=500)
    iso_abbreviation = models.CharField("ISO abbreviation", max_length=255, blank=True)
    issn = models.CharField("ISSN (print)", max_length=9, blank=True, db_index=True)
    eissn = models.CharField("ISSN (electronic)", max_length=9, blank=True, db_index=True)
    nlm_id = models.CharField("NLM unique ID", max_length=32, blank=True)
    publisher = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            # Journal filter by title and the admin autocomplete.
            models.Index(Lower("title"), name="journal_title_lower_idx"),
        ]

    def __str__(self) -> str:
        return self.iso_abbreviation or self.title

    def save(self, *args, **kwargs) -> None:
        if not self.key:
            self.key = self.make_key(
                title=self.title, issn=self.issn, eissn=self.eissn, nlm_id=self.nlm_id
            )
        super().save(*args, **kwargs)

    @staticmethod
    def make_key(*, title: str, issn: str = "", eissn: str = "", nlm_id: str = "") -> str:
        if issn or eissn:
            return f"issn:{issn or eissn}"
        if nlm_id:
            return f"nlm:{nlm_id}"
        return f"title:{identifiers.normalize_title(title)}"

    def clean(self) -> None:
        errors = {}
        for name in ("issn", "eissn"):
            try:
                setattr(self, name, identifiers.normalize_issn(getattr(self, name)))
            except identifiers.InvalidIdentifier as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)


class PublicationType(models.Model):
    name = models.CharField(max_length=255, unique=True)
    ui = models.CharField("MeSH UI", max_length=16, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeshDescriptor(models.Model):
    name = models.CharField(max_length=255, unique=True)
    ui = models.CharField("MeSH UI", max_length=16, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MeSH descriptor"

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    """A person or group across studies. PubMed does not disambiguate authors, so the
    identity is the ORCID when known, else the normalised name with initials (the same
    grouping PubMed's "Li Y[au]" search makes)."""

    key = models.CharField(max_length=300, unique=True, editable=False)
    last_name = models.CharField(max_length=255, blank=True)
    fore_name = models.CharField(max_length=255, blank=True)
    initials = models.CharField(max_length=32, blank=True)
    collective_name = models.CharField(max_length=500, blank=True)
    orcid = models.CharField("ORCID iD", max_length=19, blank=True, db_index=True)

    class Meta:
        ordering = ["last_name", "initials", "collective_name"]
        indexes = [
            # Author filter ("author=smith") and the admin search.
            models.Index(Lower("last_name"), name="author_last_name_lower_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(last_name="") | ~Q(collective_name=""),
                name="author_has_name",
                violation_error_message="An author needs a last name or a collective name.",
            )
        ]

    def __str__(self) -> str:
        if self.collective_name:
            return self.collective_name
        return f"{self.last_name} {self.initials}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self.key:
            self.key = self.make_key(
                last_name=self.last_name,
                initials=self.initials,
                fore_name=self.fore_name,
                collective_name=self.collective_name,
                orcid=self.orcid,
            )
        super().save(*args, **kwargs)

    @staticmethod
    def make_key(
        *,
        last_name: str = "",
        initials: str = "",
        fore_name: str = "",
        collective_name: str = "",
        orcid: str = "",
    ) -> str:
        if orcid:
            return f"orcid:{orcid}"
        if collective_name and not last_name:
            return f"group:{identifiers.normalize_title(collective_name)}"[:300]
        first = initials or "".join(part[:1] for part in fore_name.split())
        return f"name:{identifiers.normalize_title(last_name)}|{first.upper()}"[:300]


class Study(models.Model):
    """The unit of evidence: one article, review, trial report or book chapter."""

    pmid = models.PositiveIntegerField("PMID", null=True, blank=True, unique=True)
    doi = models.CharField("DOI", max_length=255, null=True, blank=True, unique=True)
    pmcid = models.CharField("PMCID", max_length=16, null=True, blank=True, unique=True)

    title = models.TextField(blank=True)
    # Matching key for records without identifiers: normalised title + year.
    title_key = models.CharField(max_length=500, blank=True, editable=False)
    abstract = models.TextField(blank=True)
    # Matching key for an evidence summary, which has only the abstract (see
    # identifiers.abstract_digest); kept up to date by save() and the importer.
    abstract_digest = models.CharField(max_length=32, blank=True, editable=False)
    # Structured abstract as PubMed gives it: [{"label", "category", "text"}, ...].
    abstract_sections = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=16, blank=True)

    journal = models.ForeignKey(
        Journal, null=True, blank=True, on_delete=models.PROTECT, related_name="studies"
    )
    volume = models.CharField(max_length=64, blank=True)
    issue = models.CharField(max_length=64, blank=True)
    pages = models.CharField(max_length=64, blank=True)

    pub_date = models.DateField("publication date", null=True, blank=True)
    pub_date_precision = models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="How much of the publication date the source gave.",
    )
    pub_date_text = models.CharField(
        "date as printed",
        max_length=100,
        blank=True,
        help_text="PubMed's MedlineDate or the source's date string, verbatim.",
    )
    pub_year = models.PositiveSmallIntegerField("year", null=True, blank=True)

    publication_types = models.ManyToManyField(PublicationType, blank=True, related_name="studies")
    keywords = models.JSONField(default=list, blank=True)
    # PubMed CommentsCorrections other than Cites: [{"relation", "ref_source", "pmid"}].
    related_articles = models.JSONField(default=list, blank=True)
    is_retracted = models.BooleanField(default=False)
    # Funding and declared interests: reviewers extract them to judge sponsorship bias.
    grants = models.JSONField(
        default=list,
        blank=True,
        help_text='Funders as the source lists them: [{"agency", "grant_id", "acronym", '
        '"country"}].',
    )
    funding_statement = models.TextField(
        blank=True, help_text="The source's funding acknowledgement, verbatim."
    )
    conflict_of_interest = models.TextField(
        "conflict of interest statement",
        blank=True,
        help_text="The authors' declaration of competing interests, verbatim.",
    )
    citation_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Citation count reported by the source."
    )

    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    imported_from = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    import_run = models.ForeignKey(
        "evidence.ImportRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="studies",
        help_text="The last import that created or updated this study.",
    )
    # Digest of the bibliographic content last imported: an unchanged record in a
    # re-import is recognised from this alone and costs no writes.
    import_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    # Title, abstract, keywords and MeSH terms in one text, for full-text search
    # (a GIN index over its tsvector on PostgreSQL; LIKE scans on SQLite).
    search_document = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["search_document", "title_key", "abstract_digest", "import_fingerprint"]
    )

    class Meta:
        ordering = ["-pub_year", "-id"]
        verbose_name_plural = "studies"
        indexes = [
            # Default list ordering and year-range filters.
            models.Index(fields=["-pub_year", "-id"], name="study_year_id_idx"),
            # Import matching by normalised title with year.
            models.Index(fields=["title_key", "pub_year"], name="study_title_key_year_idx"),
            # Import matching of an evidence summary by its abstract.
            models.Index(
                fields=["abstract_digest"],
                condition=~Q(abstract_digest=""),
                name="study_abstract_digest_idx",
            ),
            # Review-status filter and the admin's status list filter.
            models.Index(fields=["review_status", "-id"], name="study_status_idx"),
            # ordering=-updated (sync clients poll for recent changes).
            models.Index(fields=["-updated_at"], name="study_updated_idx"),
            # ordering=-citation_count.
            models.Index(fields=["-citation_count", "-id"], name="study_citations_idx"),
        ]
        constraints = [
            year_constraint("pub_year", "study_pub_year_range"),
            *identifier_constraints("study"),
        ]

    def __str__(self) -> str:
        label = self.title or "(untitled)"
        if len(label) > 80:
            label = label[:77] + "..."
        return f"PMID {self.pmid}: {label}" if self.pmid else label

    def save(self, *args, **kwargs) -> None:
        self.title_key = identifiers.normalize_title(self.title)
        self.abstract_digest = identifiers.abstract_digest(self.abstract)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        clean_identifiers(self)
        self.grants = normalize_grants(self.grants)
        if self.pub_date and self.pub_year and self.pub_date.year != self.pub_year:
            raise ValidationError({"pub_year": "Year differs from the publication date's year."})
        if self.pub_date and not self.pub_year:
            self.pub_year = self.pub_date.year


GRANT_KEYS = ("agency", "grant_id", "acronym", "country")


def normalize_grants(grants: object) -> list[dict[str, str]]:
    """Grants as imports store them, each with all of ``GRANT_KEYS`` as text; what a
    curator typed that cannot be one (not a list of objects, a number for an agency, a
    grant with neither agency nor number) is a ValidationError on ``grants``."""
    if grants in (None, ""):
        return []
    if not isinstance(grants, list):
        raise ValidationError({"grants": "Expected a list of grants."})
    normalized = []
    for index, grant in enumerate(grants, 1):
        if not isinstance(grant, dict):
            raise ValidationError({"grants": f"Grant {index}: expected an object."})
        unknown = sorted(set(grant) - set(GRANT_KEYS))
        if unknown:
            known = ", ".join(GRANT_KEYS)
            raise ValidationError(
                {"grants": f"Grant {index}: unknown key {unknown[0]!r} (use {known})."}
            )
        values = {}
        for key in GRANT_KEYS:
            value = grant.get(key) or ""
            if not isinstance(value, str):
                raise ValidationError({"grants": f"Grant {index}: {key} must be text."})
            values[key] = " ".join(value.split())
        if not (values["agency"] or values["grant_id"]):
            raise ValidationError({"grants": f"Grant {index}: needs an agency or a number."})
        normalized.append(values)
    return normalized


# What a curator edits on a study, in the admin and through the API alike (the rest is
# derived or import bookkeeping).
STUDY_EDITABLE_FIELDS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "abstract_sections",
    "language",
    "journal",
    "volume",
    "issue",
    "pages",
    "pub_date",
    "pub_date_precision",
    "pub_date_text",
    "pub_year",
    "publication_types",
    "keywords",
    "related_articles",
    "grants",
    "funding_statement",
    "conflict_of_interest",
    "is_retracted",
    "citation_count",
    "review_status",
)


class Authorship(models.Model):
    """An author's place on one study, with the name and affiliations as printed there."""

    # Covered by authorship_unique_position (study, ...) and
    # authorship_author_study_idx (author, ...): no separate FK indexes to maintain.
    study = models.ForeignKey(
        Study,
        on_delete=models.CASCADE,
        related_name="authorships",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    author = models.ForeignKey(
        Author,
        on_delete=models.PROTECT,
        related_name="authorships",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    position = models.PositiveSmallIntegerField()
    last_name = models.CharField(max_length=255, blank=True)
    fore_name = models.CharField(max_length=255, blank=True)
    initials = models.CharField(max_length=32, blank=True)
    collective_name = models.CharField(max_length=500, blank=True)
    orcid = models.CharField("ORCID iD", max_length=19, blank=True)
    affiliations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "position"], name="authorship_unique_position"
            ),
        ]
        indexes = [
            # Author filter on studies joins from author to study.
            models.Index(fields=["author", "study"], name="authorship_author_study_idx"),
        ]

    def __str__(self) -> str:
        name = self.collective_name or f"{self.last_name} {self.initials}".strip()
        return f"{name} (#{self.position})"


class StudyMeshHeading(models.Model):
    # Covered by mesh_heading_unique (study, ...) and mesh_descriptor_study_idx.
    study = models.ForeignKey(
        Study,
        on_delete=models.CASCADE,
        related_name="mesh_headings",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    descriptor = models.ForeignKey(
        MeshDescriptor,
        on_delete=models.PROTECT,
        related_name="headings",
        db_index=False,
        db_constraint=False,  # checked per statement: evidence.models.integrity
    )
    # A heading is a major topic when the descriptor or one of its qualifiers is starred.
    is_major = models.BooleanField(default=False)
    # [{"name": "therapy", "ui": "Q000628", "is_major": true}, ...]
    qualifiers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["study", "descriptor__name"]
        verbose_name = "MeSH heading"
        constraints = [
            models.UniqueConstraint(fields=["study", "descriptor"], name="mesh_heading_unique"),
        ]
        indexes = [
            # MeSH filter on studies starts from the descriptor.
            models.Index(fields=["descriptor", "study"], name="mesh_descriptor_study_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.descriptor}{'*' if self.is_major else ''}"
