"""Admin forms: identifier entry, the study's reference list, and the import upload.

Identifier rules live in ``evidence.identifiers`` and the models' ``clean()``; these
forms only make sure the admin reaches them (a PMID typed as "PMID: 33081809" must not
be refused by an integer field first) and show each message on its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import F, Max, Q, QuerySet

from evidence import identifiers
from evidence.models import (
    STUDY_EDITABLE_FIELDS,
    WORK_EDITABLE_FIELDS,
    Appraisal,
    Author,
    Authorship,
    Citation,
    Study,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS, REPORTED_TEXT_FIELDS

# ---------------------------------------------------------------------------
# Autocomplete labels without a query per row


class PreloadedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete select that labels its current value from an object already
    loaded (``preloaded``) instead of querying for it.

    The stock widget runs one ``SELECT ... WHERE pk IN (value)`` per rendered form, so an
    inline with 40 authorships costs 40 queries; the inline's queryset already has the
    related rows through ``select_related``.
    """

    preloaded: dict[str, Any] | None = None

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if not selected or not self.preloaded or not selected <= self.preloaded.keys():
            return super().optgroups(name, value, attr)
        default: tuple[None, list, int] = (None, [], 0)
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        label = self.choices.field.label_from_instance
        for key in sorted(selected):
            obj = self.preloaded[key]
            index = len(default[1])
            default[1].append(self.create_option(name, key, label(obj), selected, index))
        return [default]


class PreloadedLabelsForm(forms.ModelForm):
    """Hands each autocomplete widget the related object the instance already holds."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if not isinstance(widget, PreloadedAutocompleteSelect):
                continue
            model_field = self.instance._meta.get_field(name)
            if model_field.is_cached(self.instance):
                related = getattr(self.instance, name)
                if related is not None:
                    widget.preloaded = {str(related.pk): related}


# ---------------------------------------------------------------------------
# Identifiers


class PmidFormMixin:
    """Take the PMID as text so "PMID: 0033081809" reaches the normaliser; store an int.

    DOI and PMCID need nothing here: they are text fields whose empty value is already
    ``None`` (NULL, so uniqueness ignores it) and ``clean_identifiers`` in the model's
    ``clean()`` normalises them and raises one message per field.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "pmid" in self.fields:
            old = self.fields["pmid"]
            self.fields["pmid"] = forms.CharField(
                label=old.label,
                required=False,
                max_length=40,
                help_text="Digits; 'PMID: …' is accepted.",
                disabled=old.disabled,
            )

    def clean_pmid(self) -> int | None:
        try:
            value = identifiers.normalize_pmid(self.cleaned_data.get("pmid"))
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(str(exc), code="invalid_pmid") from None
        return int(value) if value else None


class StudyAdminForm(PmidFormMixin, forms.ModelForm):
    class Meta:
        model = Study
        fields = STUDY_EDITABLE_FIELDS
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "abstract": forms.Textarea(attrs={"rows": 10, "cols": 90}),
            "abstract_sections": forms.Textarea(attrs={"rows": 4, "cols": 90}),
            "keywords": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "related_articles": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "grants": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "funding_statement": forms.Textarea(attrs={"rows": 3, "cols": 90}),
            "conflict_of_interest": forms.Textarea(attrs={"rows": 3, "cols": 90}),
        }
        help_texts = {
            "doi": "Lower-cased, without 'https://doi.org/' (both are accepted).",
            "pmcid": "Stored with its 'PMC' prefix ('4821226' is accepted).",
        }


class WorkAdminForm(PmidFormMixin, forms.ModelForm):
    class Meta:
        model = Work
        fields = WORK_EDITABLE_FIELDS
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "authors": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "raw_text": forms.Textarea(attrs={"rows": 3, "cols": 90}),
        }


class OrcidFormMixin:
    """Accepts the ORCID as people paste it (an orcid.org URL) and stores the bare iD."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "orcid" in self.fields:
            old = self.fields["orcid"]
            self.fields["orcid"] = forms.CharField(
                label=old.label, required=False, max_length=60, disabled=old.disabled
            )

    def clean_orcid(self) -> str:
        try:
            return identifiers.normalize_orcid(self.cleaned_data.get("orcid"))
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(str(exc), code="invalid_orcid") from None


class AuthorAdminForm(OrcidFormMixin, forms.ModelForm):
    class Meta:
        model = Author
        fields = ["last_name", "fore_name", "initials", "collective_name", "orcid"]


class AuthorshipForm(OrcidFormMixin, PreloadedLabelsForm):
    class Meta:
        model = Authorship
        fields = [
            "study",
            "position",
            "author",
            "last_name",
            "fore_name",
            "initials",
            "collective_name",
            "orcid",
            "affiliations",
        ]
        widgets = {"affiliations": forms.Textarea(attrs={"rows": 1, "cols": 40})}


class AppraisalForm(forms.ModelForm):
    class Meta:
        model = Appraisal
        fields = [
            "study",
            "design",
            *(name for field in REPORTED_FIELDS for name in (f"{field}_state", field)),
            "main_result",
            "practice_relevance",
            "risk_of_bias",
            "risk_of_bias_tool",
            "certainty",
            "concepts",
            "notes",
        ]
        widgets = {
            **{
                name: forms.Textarea(attrs={"rows": 2, "cols": 60}) for name in REPORTED_TEXT_FIELDS
            },
            "main_result": forms.Textarea(attrs={"rows": 3, "cols": 90}),
            "practice_relevance": forms.Textarea(attrs={"rows": 3, "cols": 90}),
            "notes": forms.Textarea(attrs={"rows": 2, "cols": 90}),
        }


# ---------------------------------------------------------------------------
# The study's references (citation edges whose citing node is the study's Work)
#
# These few writes belong in evidence.services (a ``citation_add`` service); they live
# here until the service exists because the admin is their only caller.

_IDENTIFIER_KINDS = ("pmid", "doi", "pmcid")


def parse_work_identifier(text: str) -> tuple[str, int | str]:
    """'PMC4821226' -> ('pmcid', 'PMC4821226'); '33081809' -> ('pmid', 33081809);
    'https://doi.org/10.1/X' -> ('doi', '10.1/x')."""
    value = text.strip()
    try:
        if re.match(r"^(?:pmc(?:id)?\s*:?\s*)?pmc\s*\d+$", value, re.IGNORECASE):
            return "pmcid", identifiers.normalize_pmcid(value)
        if re.match(r"^(?:pmid\s*:?\s*)?\d+$", value, re.IGNORECASE):
            return "pmid", int(identifiers.normalize_pmid(value))
        if "10." in value:
            return "doi", identifiers.normalize_doi(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="invalid_identifier") from None
    raise ValidationError(
        "Enter a PMID (digits), a DOI (10.xxxx/…) or a PMCID (PMC…), not %(value)r.",
        code="invalid_identifier",
        params={"value": value},
    )


@dataclass
class ReferenceTarget:
    """What a new reference row points at, found at validation time, created at save."""

    work: Work | None = None
    study: Study | None = None
    identifier: tuple[str, int | str] | None = None

    @property
    def key(self) -> tuple[str, Any]:
        if self.work is not None:
            return ("work", self.work.pk)
        if self.study is not None:
            return ("study", self.study.pk)
        return ("identifier", self.identifier)

    def materialise(self, *, raw_text: str = "") -> Work:
        if self.work is not None:
            return self.work
        if self.study is not None:
            return work_for_study(self.study)
        assert self.identifier is not None
        kind, value = self.identifier
        work, _ = Work.objects.get_or_create(**{kind: value}, defaults={"raw_text": raw_text})
        return work


def find_work_for_study(study: Study) -> Work | None:
    """The study's node: the Work linked to it, else a Work found by its identifiers."""
    linked = Work.objects.filter(study=study).first()
    if linked is not None:
        return linked
    condition = Q()
    for name in _IDENTIFIER_KINDS:
        value = getattr(study, name)
        if value:
            condition |= Q(**{name: value})
    if not condition:
        return None
    return Work.objects.filter(condition, study__isnull=True).order_by("pk").first()


def work_for_study(study: Study) -> Work:
    """Find or create the study's node, and link it to the study (the node rule: a work
    cited before it was imported becomes the imported study's node, no duplicate)."""
    work = find_work_for_study(study)
    if work is None:
        return Work.objects.create(
            study=study,
            pmid=study.pmid,
            doi=study.doi,
            pmcid=study.pmcid,
            title=study.title,
            year=study.pub_year,
            volume=study.volume,
            issue=study.issue,
            pages=study.pages,
        )
    if work.study_id is None:
        work.study = study
        work.save(update_fields=["study"])
    return work


def resolve_reference_target(kind: str, value: int | str) -> ReferenceTarget:
    work = Work.objects.filter(**{kind: value}).select_related("study").first()
    if work is not None:
        return ReferenceTarget(work=work)
    study = Study.objects.filter(**{kind: value}).first()
    if study is not None:
        return ReferenceTarget(work=find_work_for_study(study), study=study)
    return ReferenceTarget(identifier=(kind, value))


class ReferenceForm(forms.ModelForm):
    """A row of the study's reference list.

    A new row names the cited work by choosing it (``work``, an autocomplete over
    Works) or by typing an identifier; a study already in EviDB is found by that
    identifier too. An existing row's target is fixed: remove the row and add another.
    """

    # The inline replaces this field's widget by an admin autocomplete.
    work = forms.ModelChoiceField(
        queryset=Work.objects.all(), required=False, label="Choose a cited work"
    )
    identifier = forms.CharField(
        required=False,
        max_length=300,
        label="or enter its PMID, DOI or PMCID",
        widget=forms.TextInput(attrs={"size": 28, "placeholder": "PMID, DOI or PMCID"}),
    )

    class Meta:
        model = Citation
        fields = ["position", "raw_text"]
        widgets = {
            "position": forms.NumberInput(attrs={"style": "width: 4em"}),
            "raw_text": forms.Textarea(attrs={"rows": 2, "cols": 50}),
        }
        labels = {"raw_text": "Reference as printed"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["work"].disabled = True
            self.fields["identifier"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is not None:
            return data
        work, text = data.get("work"), (data.get("identifier") or "").strip()
        if work is not None and text:
            raise ValidationError("Choose a work or enter an identifier, not both.")
        if work is not None:
            data["target"] = ReferenceTarget(work=work)
        elif text:
            try:
                data["target"] = resolve_reference_target(*parse_work_identifier(text))
            except ValidationError as exc:
                self.add_error("identifier", exc)
        elif "identifier" not in self.errors and "work" not in self.errors:
            raise ValidationError("Choose the cited work or enter its PMID, DOI or PMCID.")
        return data


class BaseReferenceFormSet(forms.BaseModelFormSet):
    """A model formset shaped like an inline formset (``instance``, a default prefix) so
    the admin can show it among the Study's inlines although Citation has no foreign key
    to Study: the edges hang off the study's Work node, created when first needed."""

    can_add = True
    can_change = True

    def __init__(
        self,
        data=None,
        files=None,
        instance: Study | None = None,
        save_as_new: bool = False,
        prefix: str | None = None,
        queryset: QuerySet | None = None,
        **kwargs,
    ) -> None:
        self.instance = Study() if instance is None else instance
        self.save_as_new = save_as_new
        if queryset is None:
            queryset = Citation.objects.all()
        if self.instance.pk is None or save_as_new:
            queryset = queryset.none()
        else:
            queryset = (
                queryset.filter(citing__study=self.instance)
                .select_related("cited__study")
                .order_by(F("position").asc(nulls_last=True), "pk")
            )
        self._citing_work: Work | None = None
        super().__init__(data, files, prefix=prefix, queryset=queryset, **kwargs)

    @classmethod
    def get_default_prefix(cls) -> str:
        return "references"

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # The admin's add/change permissions, as InlineModelAdmin enforces them.
        if form.instance.pk is None and not self.can_add:
            form.has_changed = lambda: False
        if form.instance.pk is not None and not self.can_change:
            form.has_changed = lambda: False
        return form

    def clean(self) -> None:
        super().clean()
        own: Work | None = None
        if self.instance.pk is not None:
            own = find_work_for_study(self.instance)
        seen: set[tuple[str, Any]] = set()
        for form in self.initial_forms:
            if not (self.can_delete and self._should_delete_form(form)):
                seen.add(("work", form.instance.cited_id))
        for form in self.extra_forms:
            if not form.has_changed() or (self.can_delete and self._should_delete_form(form)):
                continue
            target: ReferenceTarget | None = getattr(form, "cleaned_data", {}).get("target")
            if target is None:
                continue
            is_self = (
                own is not None and target.work is not None and target.work.pk == own.pk
            ) or (self.instance.pk is not None and target.study == self.instance)
            if is_self:
                form.add_error(None, "A study cannot cite itself.")
            elif target.key in seen:
                form.add_error(None, "This study already cites that work.")
            seen.add(target.key)

    def citing_work(self) -> Work:
        if self._citing_work is None:
            self._citing_work = work_for_study(self.instance)
        return self._citing_work

    def save_new(self, form, commit=True):
        citation = form.save(commit=False)
        citation.citing = self.citing_work()
        if citation.position is None:
            # A row added without a position goes to the end of the list.
            last = Citation.objects.filter(citing=citation.citing).aggregate(Max("position"))
            citation.position = (last["position__max"] or 0) + 1
        citation.cited = form.cleaned_data["target"].materialise(raw_text=citation.raw_text)
        if commit:
            citation.save()
        return citation


# ---------------------------------------------------------------------------
# Import upload

# The names evidence.importers.registry accepts (a test keeps the two in step).
IMPORT_FORMATS = (
    "pubmed-xml",
    "medline",
    "ris",
    "bibtex",
    "evidence-summary",
    "article-page",
    "json",
)


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        help_text="PubMed XML, MEDLINE (.nbib/.txt), RIS, BibTeX, EviDB JSON or the seed "
        "text styles; a .gz file is read transparently."
    )
    format = forms.ChoiceField(
        choices=[("auto", "Detect from content"), *((name, name) for name in IMPORT_FORMATS)],
        initial="auto",
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run",
        help_text="Parse and match every record, report, then roll back: nothing is saved.",
    )
    on_duplicate = forms.ChoiceField(
        label="When a record matches an existing study",
        choices=[
            ("update", "Update its bibliographic data (curated appraisal is kept)"),
            ("skip", "Skip the record"),
        ],
        initial="update",
        widget=forms.RadioSelect,
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid records",
        help_text="Import the valid records and list the invalid ones. Without this, "
        "one invalid record rolls back the whole file.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += f" At most {human_size(settings.EVIDB_MAX_UPLOAD_BYTES)}."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.EVIDB_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                too_large_message(upload.size, limit, name=upload.name), code="too_large"
            )
        return upload


def too_large_message(size: int | None, limit: int, *, name: str = "") -> str:
    if name and size is not None:
        what = f"{name!r} is {human_size(size)},"
    else:
        what = f"{name!r} is" if name else "The upload is"
    return (
        f"{what} over the {human_size(limit)} upload limit. Split the file, or import it "
        "with 'manage.py import_records'."
    )
