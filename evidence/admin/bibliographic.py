"""Journals, authors, vocabularies: mostly autocomplete sources for the Study page."""

from __future__ import annotations

from django.contrib import admin
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import format_html

from evidence.admin.base import BigTableAdmin, PreloadedAutocompleteMixin
from evidence.admin.study import refresh_search_document
from evidence.forms import AuthorAdminForm, AuthorshipForm, PreloadedLabelsForm
from evidence.models import (
    Author,
    Authorship,
    Journal,
    MeshDescriptor,
    PublicationType,
    Study,
    StudyMeshHeading,
)


def _studies_link(url_param: str, pk: int, label: str = "studies") -> str:
    url = reverse("admin:evidence_study_changelist") + f"?{url_param}={pk}"
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(Journal)
class JournalAdmin(BigTableAdmin):
    list_display = ["title", "iso_abbreviation", "issn", "eissn", "publisher", "studies"]
    # Autocomplete and search: ISSNs are typed whole; titles by fragment.
    search_fields = ["title", "iso_abbreviation", "=issn", "=eissn", "=nlm_id"]
    readonly_fields = ["key"]
    fields = ["title", "iso_abbreviation", ("issn", "eissn"), "nlm_id", "publisher", "key"]
    ordering = [Lower("title")]

    @admin.display(description="studies")
    def studies(self, obj: Journal) -> str:
        return _studies_link("journal", obj.pk)


@admin.register(Author)
class AuthorAdmin(BigTableAdmin):
    form = AuthorAdminForm
    list_display = ["__str__", "last_name", "fore_name", "initials", "collective_name", "orcid"]
    # Last names by prefix ("smi" finds Smith); ORCID whole.
    search_fields = ["^last_name", "^collective_name", "=orcid"]
    readonly_fields = ["key"]
    fields = [("last_name", "fore_name", "initials"), "collective_name", "orcid", "key"]


@admin.register(Authorship)
class AuthorshipAdmin(PreloadedAutocompleteMixin, BigTableAdmin):
    form = AuthorshipForm
    list_display = ["study", "position", "__str__", "author", "orcid"]
    list_select_related = ["study", "author"]
    autocomplete_fields = ["study", "author"]
    search_fields = ["^last_name", "=orcid"]
    ordering = ["-id"]


@admin.register(PublicationType)
class PublicationTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "ui", "studies"]
    search_fields = ["name", "=ui"]

    @admin.display(description="studies")
    def studies(self, obj: PublicationType) -> str:
        return _studies_link("publication_type", obj.pk)


@admin.register(MeshDescriptor)
class MeshDescriptorAdmin(BigTableAdmin):
    list_display = ["name", "ui"]
    search_fields = ["name", "=ui"]


class StudyMeshHeadingForm(PreloadedLabelsForm):
    class Meta:
        model = StudyMeshHeading
        fields = ["study", "descriptor", "is_major", "qualifiers"]


@admin.register(StudyMeshHeading)
class StudyMeshHeadingAdmin(PreloadedAutocompleteMixin, BigTableAdmin):
    form = StudyMeshHeadingForm
    list_display = ["study", "descriptor", "is_major"]
    list_select_related = ["study", "descriptor"]
    autocomplete_fields = ["study", "descriptor"]
    list_filter = ["is_major"]
    ordering = ["-id"]

    # MeSH terms are part of the study's full-text search document.
    def save_model(self, request, obj, form, change):
        old_study_id = form.initial.get("study") if change else None
        super().save_model(request, obj, form, change)
        for study in Study.objects.filter(pk__in={obj.study_id, old_study_id} - {None}):
            refresh_search_document(study)

    def delete_model(self, request, obj):
        study = obj.study
        super().delete_model(request, obj)
        refresh_search_document(study)

    def delete_queryset(self, request, queryset):
        study_ids = set(queryset.values_list("study_id", flat=True))
        super().delete_queryset(request, queryset)
        for study in Study.objects.filter(pk__in=study_ids):
            refresh_search_document(study)
