"""The citation graph: Work nodes (autocomplete source for references) and their edges."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

from evidence.admin.base import BigTableAdmin, PreloadedAutocompleteMixin, admin_link
from evidence.admin.graph import cited_by_context, truncate
from evidence.admin.study import search_identifier
from evidence.forms import PreloadedLabelsForm, WorkAdminForm
from evidence.models import Citation, Work


class CitationForm(PreloadedLabelsForm):
    class Meta:
        model = Citation
        fields = ["citing", "cited", "position", "raw_text"]


class WorkReferenceInline(PreloadedAutocompleteMixin, admin.TabularInline):
    """The works this work cites (edit the edges of a node that is not a study here;
    a study's references are edited on the Study page)."""

    model = Citation
    form = CitationForm
    fk_name = "citing"
    extra = 0
    autocomplete_fields = ["cited"]
    fields = ["position", "cited", "raw_text"]
    verbose_name = "reference"
    verbose_name_plural = "references (works this work cites)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cited__study")


@admin.register(Work)
class WorkAdmin(PreloadedAutocompleteMixin, BigTableAdmin):
    form = WorkAdminForm
    change_form_template = "admin/evidence/work/change_form.html"
    list_display = ["id", "label", "pmid", "doi", "pmcid", "year", "study_link"]
    list_display_links = ["id", "label"]
    list_select_related = ["study"]
    # get_search_results does the work (identifiers exact, words in title or text).
    search_fields = ["title"]
    search_help_text = "A PMID, DOI or PMCID finds that work; words match title or text."
    autocomplete_fields = ["study"]
    fieldsets = [
        ("Identifiers", {"fields": [("pmid", "doi", "pmcid")]}),
        (
            "As the source describes it",
            {"fields": ["title", "authors", ("journal", "year"), ("volume", "issue", "pages")]},
        ),
        ("Text as printed", {"fields": ["raw_text"]}),
        ("In EviDB", {"fields": ["study"]}),
    ]
    inlines = [WorkReferenceInline]

    def get_queryset(self, request):
        # str(work) is the study's when linked; autocomplete labels need it too.
        return super().get_queryset(request).select_related("study")

    @admin.display(description="work")
    def label(self, obj: Work) -> str:
        return truncate(str(obj), 100)

    @admin.display(description="study", ordering="study")
    def study_link(self, obj: Work) -> str:
        return admin_link(obj.study, "open") if obj.study_id else "-"

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        identifier = search_identifier(term)
        if identifier is not None:
            field, value = identifier
            return queryset.filter(**{field: value}), False
        for bit in smart_split(term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            if bit:
                queryset = queryset.filter(Q(title__icontains=bit) | Q(raw_text__icontains=bit))
        return queryset, False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(cited_by_context(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Citation)
class CitationAdmin(PreloadedAutocompleteMixin, BigTableAdmin):
    """Every edge. Reached filtered from a Work or Study page (``?cited__id__exact=``,
    ``?citing__id__exact=``); ordered by id so an unfiltered page needs no sort."""

    form = CitationForm
    list_display = ["id", "citing_link", "cited_link", "position"]
    list_select_related = ["citing__study", "cited__study"]
    autocomplete_fields = ["citing", "cited"]
    fields = ["citing", "cited", "position", "raw_text"]
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("citing__study", "cited__study")

    @admin.display(description="citing work")
    def citing_link(self, obj: Citation) -> str:
        return admin_link(obj.citing, truncate(str(obj.citing), 80))

    @admin.display(description="cited work")
    def cited_link(self, obj: Citation) -> str:
        return admin_link(obj.cited, truncate(str(obj.cited), 80))
