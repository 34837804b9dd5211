"""The Study admin: one page curates a study completely; the list stays fast at 10^5 rows."""

from __future__ import annotations

import re
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.forms import modelformset_factory
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import bulk_update_with_history

from evidence import identifiers
from evidence.admin.base import (
    BigTableAdmin,
    PreloadedAutocompleteMixin,
    admin_link,
    chunked,
)
from evidence.admin.filters import (
    CertaintyFilter,
    DesignFilter,
    JournalFilter,
    PublicationTypeFilter,
    PublicationYearFilter,
    ReportingStateFilter,
    RiskOfBiasFilter,
)
from evidence.admin.graph import cited_by_context, truncate
from evidence.forms import (
    AppraisalForm,
    AuthorshipForm,
    BaseReferenceFormSet,
    PreloadedLabelsForm,
    ReferenceForm,
    StudyAdminForm,
    find_work_for_study,
)
from evidence.models import (
    Appraisal,
    Author,
    Authorship,
    Citation,
    EffectSize,
    Limitation,
    ResearchGap,
    ReviewStatus,
    Study,
    StudyMeshHeading,
)
from evidence.models.appraisal import REPORTED_FIELDS

# How many curation changes the change page lists (per tracked model, then merged).
RECENT_CHANGES_LIMIT = 15
# Up to this many studies of a searched last name enter the query as literal ids.
AUTHOR_STUDIES_INLINE = 1000
# Rows per bulk_update / bulk history insert in the review-status actions.
BULK_BATCH = 500


class AppraisalInline(admin.StackedInline):
    model = Appraisal
    form = AppraisalForm
    extra = 1
    max_num = 1
    autocomplete_fields = ["concepts"]
    fieldsets = [
        (
            "Design and judgement",
            {"fields": ["design", ("risk_of_bias", "risk_of_bias_tool"), "certainty"]},
        ),
        (
            "What the study reports",
            {
                "description": "Each item has a reporting state: <b>reported</b> (give "
                "the value), <b>not reported</b> (the study is silent), <b>not "
                "applicable</b>, or <b>not yet curated</b> (nobody has looked).",
                "fields": [(f"{name}_state", name) for name in REPORTED_FIELDS],
            },
        ),
        ("Findings", {"fields": ["main_result", "practice_relevance"]}),
        ("Topics, conditions and mechanisms", {"fields": ["concepts", "notes"]}),
    ]

    def get_queryset(self, request):
        # The inline's heading prints str(appraisal), which names the study.
        return super().get_queryset(request).select_related("study")


class AuthorshipInline(PreloadedAutocompleteMixin, admin.TabularInline):
    model = Authorship
    form = AuthorshipForm
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["author"]
    fields = [
        "position",
        "author",
        "last_name",
        "fore_name",
        "initials",
        "collective_name",
        "orcid",
        "affiliations",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class MeshHeadingForm(PreloadedLabelsForm):
    class Meta:
        model = StudyMeshHeading
        fields = ["descriptor", "is_major", "qualifiers"]
        widgets = {"qualifiers": forms.Textarea(attrs={"rows": 1, "cols": 60})}


class MeshHeadingInline(PreloadedAutocompleteMixin, admin.TabularInline):
    model = StudyMeshHeading
    form = MeshHeadingForm
    extra = 0
    autocomplete_fields = ["descriptor"]
    fields = ["descriptor", "is_major", "qualifiers"]
    verbose_name_plural = "MeSH headings"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("descriptor")


class EffectSizeInline(admin.StackedInline):
    model = EffectSize
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("outcome", "timepoint"),
                    ("measure", "value", "ci_lower", "ci_upper", "ci_level", "p_value"),
                    ("n_intervention", "n_comparator", "certainty", "order"),
                    "note",
                ]
            },
        )
    ]
    formfield_overrides = {
        EffectSize._meta.get_field("note").__class__: {
            "widget": forms.Textarea(attrs={"rows": 2, "cols": 90})
        }
    }


class LimitationInline(admin.TabularInline):
    model = Limitation
    extra = 0
    fields = ["order", "category", "description", "raised_by"]
    formfield_overrides = {
        Limitation._meta.get_field("description").__class__: {
            "widget": forms.Textarea(attrs={"rows": 2, "cols": 80})
        }
    }


class ResearchGapInline(admin.TabularInline):
    model = ResearchGap
    extra = 0
    fields = ["order", "category", "description", "future_direction"]
    formfield_overrides = {
        ResearchGap._meta.get_field("description").__class__: {
            "widget": forms.Textarea(attrs={"rows": 2, "cols": 60})
        }
    }


class _NoParentFkChecks(admin.checks.InlineModelAdminChecks):
    """Citation reaches Study through the study's Work node, not a foreign key."""

    def _check_relation(self, obj, parent_model):
        return []

    def _check_exclude_of_parent_model(self, obj, parent_model):
        return []


class ReferenceInline(admin.TabularInline):
    """The study's reference list: the citation edges leaving the study's Work node.

    Existing rows show the cited work with links (its Work record, the study it
    resolves to, PubMed / doi.org), keep position and printed text editable, and can be
    deleted. A new row chooses a Work (autocomplete by title or identifier) or takes a
    PMID, DOI or PMCID: a Work or a Study with that identifier is reused, otherwise a
    new Work node is created. The study's own node is created on first use.
    """

    model = Citation
    checks_class = _NoParentFkChecks
    template = "admin/evidence/edit_inline/references.html"
    fields = ["position", "work", "identifier", "raw_text"]
    extra = 0
    verbose_name = "reference"
    verbose_name_plural = "references (works this study cites)"

    def get_formset(self, request, obj=None, **kwargs):
        work_field = forms.ModelChoiceField(
            queryset=ReferenceForm.base_fields["work"].queryset,
            required=False,
            label=ReferenceForm.base_fields["work"].label,
            widget=AutocompleteSelect(Citation._meta.get_field("cited"), self.admin_site),
        )
        form = type("ReferenceAdminForm", (ReferenceForm,), {"work": work_field})
        formset = modelformset_factory(
            Citation,
            form=form,
            formset=BaseReferenceFormSet,
            fields=["position", "raw_text"],
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
            extra=self.get_extra(request, obj),
            can_delete=self.can_delete and self.has_delete_permission(request, obj),
        )
        formset.can_add = self.has_add_permission(request, obj)
        formset.can_change = self.has_change_permission(request, obj)
        return formset


def refresh_search_document(study: Study) -> None:
    """Title, abstract, keywords or MeSH edited here must reach full-text search, as an
    edit through the API does (the import service writes the document on import)."""
    # evidence.search belongs to the API side; imported late so the admin loads alone.
    from evidence.search import build_search_document

    document = build_search_document(study)
    if document != study.search_document:
        Study.objects.filter(pk=study.pk).update(search_document=document)
        study.search_document = document


def study_text_condition(word: str) -> Q:
    """A search word matches a fragment of the title or abstract, or a last name.

    The authors' studies are looked up first (through the Lower(last_name) index) and
    enter as a literal id list, so no join can duplicate a study and, on PostgreSQL,
    every arm of the OR can use an index once title and abstract have trigram indexes:
    at 100,000 studies a narrow search then takes milliseconds instead of seconds
    (without them, ILIKE scans both columns whatever this does).
    """
    authors = Author.objects.annotate(last_name_lower=Lower("last_name")).filter(
        last_name_lower=word.lower()
    )
    study_ids = list(
        Authorship.objects.filter(author__in=authors.values("pk"))
        .values_list("study_id", flat=True)
        .distinct()[: AUTHOR_STUDIES_INLINE + 1]
    )
    if len(study_ids) > AUTHOR_STUDIES_INLINE:
        # A very common name: a subquery rather than thousands of literals.
        by_author = Q(
            Exists(Authorship.objects.filter(study=OuterRef("pk"), author__in=authors.values("pk")))
        )
    else:
        by_author = Q(pk__in=study_ids)
    return Q(title__icontains=word) | Q(abstract__icontains=word) | by_author


_DIGITS_RE = re.compile(r"^(?:pmid\s*:?\s*)?\d{1,9}$", re.IGNORECASE)
_PMCID_RE = re.compile(r"^pmc\s*\d{1,9}$", re.IGNORECASE)
_DOI_RE = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10\.\d{4,9}", re.IGNORECASE)


def search_identifier(term: str) -> tuple[str, int | str] | None:
    """(field, canonical value) when a search term is a PMID, PMCID or DOI, so the
    search is one indexed lookup instead of a scan of the text columns."""
    try:
        if _DIGITS_RE.match(term):
            return "pmid", int(identifiers.normalize_pmid(term))
        if _PMCID_RE.match(term):
            return "pmcid", identifiers.normalize_pmcid(term)
        if _DOI_RE.match(term):
            return "doi", identifiers.normalize_doi(term)
    except identifiers.InvalidIdentifier:
        return None
    return None


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin, BigTableAdmin):
    form = StudyAdminForm
    change_form_template = "admin/evidence/study/change_form.html"
    list_display = [
        "pmid",
        "short_title",
        "journal_link",
        "pub_year",
        "design",
        "review_status",
        "certainty",
    ]
    list_display_links = ["pmid", "short_title"]
    list_select_related = ["journal", "appraisal"]
    list_filter = [
        "review_status",
        DesignFilter,
        PublicationYearFilter,
        RiskOfBiasFilter,
        CertaintyFilter,
        JournalFilter,
        PublicationTypeFilter,
        ReportingStateFilter,
    ]
    # get_search_results does the work; search_fields only has to be non-empty for the
    # search box and for autocomplete from Work.study.
    search_fields = ["title"]
    search_help_text = (
        "Words match title, abstract or an author's last name. A PMID, DOI "
        "(10.xxxx/…, or the start of one) or PMCID finds that study directly."
    )
    autocomplete_fields = ["journal", "publication_types"]
    readonly_fields = [
        "imported_from",
        "imported_at",
        "import_run_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        ("Identifiers", {"fields": [("pmid", "doi", "pmcid")]}),
        (
            "Bibliographic",
            {
                "fields": [
                    "title",
                    "abstract",
                    ("language", "journal"),
                    ("volume", "issue", "pages"),
                    "citation_count",
                ]
            },
        ),
        ("Dates", {"fields": [("pub_date", "pub_date_precision"), ("pub_date_text", "pub_year")]}),
        (
            "Classification",
            {"fields": ["review_status", "publication_types", "keywords", "is_retracted"]},
        ),
        (
            "Funding and interests",
            {
                "classes": ["collapse"],
                "fields": ["grants", "funding_statement", "conflict_of_interest"],
            },
        ),
        (
            "Structured abstract and related articles (JSON)",
            {"classes": ["collapse"], "fields": ["abstract_sections", "related_articles"]},
        ),
        (
            "Import provenance",
            {
                "classes": ["collapse"],
                "fields": [
                    ("imported_from", "imported_at"),
                    "import_run_link",
                    ("created_at", "updated_at"),
                ],
            },
        ),
    ]
    inlines = [
        AppraisalInline,
        AuthorshipInline,
        MeshHeadingInline,
        EffectSizeInline,
        LimitationInline,
        ResearchGapInline,
        ReferenceInline,
    ]
    actions = ["mark_draft", "mark_in_review", "mark_reviewed", "mark_excluded"]

    # -- list columns -------------------------------------------------------------

    @admin.display(description="title", ordering="title")
    def short_title(self, obj: Study) -> str:
        return truncate(obj.title or "(untitled)", 90)

    @admin.display(description="journal", ordering="journal__title")
    def journal_link(self, obj: Study) -> str:
        if obj.journal is None:
            return "-"
        # Filters the list to this journal (the journal filter takes its ID).
        return format_html(
            '<a href="?journal={}" title="Show this journal\'s studies">{}</a>',
            obj.journal_id,
            obj.journal,
        )

    @staticmethod
    def _appraisal(obj: Study) -> Appraisal | None:
        try:
            return obj.appraisal
        except Appraisal.DoesNotExist:
            return None

    @admin.display(description="design", ordering="appraisal__design")
    def design(self, obj: Study) -> str:
        appraisal = self._appraisal(obj)
        return appraisal.get_design_display() if appraisal and appraisal.design else "-"

    @admin.display(description="certainty", ordering="appraisal__certainty")
    def certainty(self, obj: Study) -> str:
        appraisal = self._appraisal(obj)
        return appraisal.get_certainty_display() if appraisal and appraisal.certainty else "-"

    @admin.display(description="import run")
    def import_run_link(self, obj: Study) -> str:
        return admin_link(obj.import_run) if obj.import_run_id else "-"

    # -- search -------------------------------------------------------------------

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        identifier = search_identifier(term)
        if identifier is not None:
            field, value = identifier
            exact = queryset.filter(**{field: value})
            if field == "doi" and not exact.exists():
                # Not a whole DOI: list every DOI it starts (stored DOIs are lower
                # case, as is the value, so this is case-blind).
                return queryset.filter(doi__startswith=value), False
            return exact, False
        for bit in smart_split(term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            if bit:
                queryset = queryset.filter(study_text_condition(bit))
        return queryset, False

    # -- bulk review status ---------------------------------------------------------

    def _set_review_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        label = ReviewStatus(status).label
        reason = f"Review status set to '{label}' (bulk action)"
        now = timezone.now()
        changed = 0
        # bulk_update_with_history writes one historical row per study (a plain
        # queryset.update() would leave no history); batches keep memory flat when the
        # whole filtered list is selected.
        rows = queryset.exclude(review_status=status).order_by("pk").iterator(chunk_size=BULK_BATCH)
        with transaction.atomic():
            for batch in chunked(rows, BULK_BATCH):
                for study in batch:
                    study.review_status = status
                    study.updated_at = now
                bulk_update_with_history(
                    batch,
                    Study,
                    ["review_status", "updated_at"],
                    batch_size=BULK_BATCH,
                    default_user=request.user,
                    default_change_reason=reason,
                    default_date=now,
                )
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=batch,
                    action_flag=CHANGE,
                    change_message=[{"changed": {"fields": ["Review status"]}}],
                )
                changed += len(batch)
        if changed:
            self.message_user(
                request, f"{changed} stud{'y' if changed == 1 else 'ies'} set to '{label}'."
            )
        else:
            self.message_user(
                request, f"Every selected study was already '{label}'.", messages.INFO
            )

    @admin.action(description="Set review status: draft", permissions=["change"])
    def mark_draft(self, request, queryset):
        self._set_review_status(request, queryset, ReviewStatus.DRAFT)

    @admin.action(description="Set review status: in review", permissions=["change"])
    def mark_in_review(self, request, queryset):
        self._set_review_status(request, queryset, ReviewStatus.IN_REVIEW)

    @admin.action(description="Set review status: reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        self._set_review_status(request, queryset, ReviewStatus.REVIEWED)

    @admin.action(description="Set review status: excluded", permissions=["change"])
    def mark_excluded(self, request, queryset):
        self._set_review_status(request, queryset, ReviewStatus.EXCLUDED)

    # -- saving ---------------------------------------------------------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        refresh_search_document(form.instance)

    # -- change page extras -----------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self._graph_context(obj))
            context["recent_changes"] = self._recent_changes(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _graph_context(self, study: Study) -> dict:
        return cited_by_context(find_work_for_study(study))

    def _recent_changes(self, study: Study) -> list[dict]:
        """Who changed what on this study's page, newest first, across the tracked
        models (each model's own history page shows the field-by-field diff)."""
        sources = [
            (Study, Study.history.filter(id=study.pk)),
            (Appraisal, Appraisal.history.filter(study_id=study.pk)),
            (EffectSize, EffectSize.history.filter(study_id=study.pk)),
            (Limitation, Limitation.history.filter(study_id=study.pk)),
            (ResearchGap, ResearchGap.history.filter(study_id=study.pk)),
        ]
        rows = []
        for model, history in sources:
            opts = model._meta
            for record in history.select_related("history_user").order_by("-history_date")[
                :RECENT_CHANGES_LIMIT
            ]:
                rows.append(
                    {
                        "date": record.history_date,
                        "user": record.history_user,
                        "kind": {"+": "Added", "~": "Changed", "-": "Deleted"}.get(
                            record.history_type, record.history_type
                        ),
                        "what": opts.verbose_name.capitalize(),
                        # Appraisal's label would load the study again; the page is it.
                        "object": ""
                        if model in (Study, Appraisal)
                        else truncate(str(record.instance), 80),
                        "reason": record.history_change_reason or "",
                        "history_url": reverse(
                            f"admin:{opts.app_label}_{opts.model_name}_history",
                            args=[getattr(record, opts.pk.attname)],
                        ),
                    }
                )
        rows.sort(key=lambda row: row["date"], reverse=True)
        return rows[:RECENT_CHANGES_LIMIT]
