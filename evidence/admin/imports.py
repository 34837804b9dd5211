"""Import runs: a read-only record of each import, and the page that starts one."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from evidence.forms import ImportUploadForm, too_large_message
from evidence.models import ImportRun, ImportStatus

# The detail page renders this many messages; the run keeps (a capped number of) more.
MESSAGES_SHOWN = 1000


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes the limit.

    The form's size check runs only after Django has streamed the whole file to a
    temporary file; this handler sits first in the chain and gives up at the limit, so
    a 5 GB file costs neither the disk nor the wait.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded_name: str | None = None
        self._received = 0

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._received += len(raw_data)
        if self._received > self.limit:
            self.exceeded_name = self.file_name
            # Not a connection reset: the rest of the body is read and dropped so the
            # browser gets the page with the message.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    change_list_template = "admin/evidence/importrun/change_list.html"
    upload_template = "admin/evidence/importrun/upload.html"
    list_display = [
        "source_name",
        "format",
        "status",
        "records_seen",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "user",
        "started_at",
    ]
    list_select_related = ["user"]
    list_filter = ["status", "format"]
    search_fields = ["source_name"]
    fieldsets = [
        (
            "Run",
            {
                "fields": [
                    "source_name",
                    ("format", "status"),
                    "user",
                    "options_display",
                    ("started_at", "finished_at"),
                    "studies_link",
                ]
            },
        ),
        (
            "Counts",
            {
                "fields": [
                    ("records_seen", "created", "updated", "unchanged"),
                    ("merged", "skipped", "failed", "deleted"),
                ]
            },
        ),
        ("Messages", {"fields": ["messages_display"]}),
    ]
    readonly_fields = ["options_display", "studies_link", "messages_display"]

    # -- read-only: a run is a record of what happened ------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def add_view(self, request, form_url="", extra_context=None):
        # "Add import run" means "import a file".
        return HttpResponseRedirect(reverse("admin:evidence_importrun_upload"))

    @admin.display(description="options")
    def options_display(self, obj: ImportRun) -> str:
        options = obj.options or {}
        parts = [
            "dry run" if options.get("dry_run") else "",
            f"on duplicate: {options['on_duplicate']}" if options.get("on_duplicate") else "",
            "skip invalid records" if options.get("skip_invalid") else "",
        ]
        return ", ".join(part for part in parts if part) or "-"

    @admin.display(description="studies")
    def studies_link(self, obj: ImportRun) -> str:
        url = reverse("admin:evidence_study_changelist") + f"?import_run__id__exact={obj.pk}"
        return format_html('<a href="{}">Studies last written by this run</a>', url)

    @admin.display(description="messages")
    def messages_display(self, obj: ImportRun) -> str:
        items = obj.messages or []
        if not items:
            return "No messages."
        rows = format_html_join(
            "\n",
            '<tr class="import-message import-message-{}"><td><strong>{}</strong></td>'
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    str(item.get("level", "")),
                    str(item.get("level", "")).upper(),
                    str(item.get("location", "")),
                    str(item.get("message", "")),
                )
                for item in items[:MESSAGES_SHOWN]
                if isinstance(item, dict)
            ),
        )
        more = ""
        if len(items) > MESSAGES_SHOWN:
            more = format_html(
                '<p class="help">{} more messages are stored and not shown.</p>',
                len(items) - MESSAGES_SHOWN,
            )
        return format_html(
            '<table style="width: 100%"><thead><tr><th>Level</th><th>Where</th>'
            "<th>Message</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            more,
        )

    # -- upload page -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(csrf_exempt(self.upload_view)),
                name="evidence_importrun_upload",
            ),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        # The size limit must be in place before anything reads the body, and the CSRF
        # check reads it: so the view is exempt from the middleware and checks CSRF
        # itself, after installing the handler (Django's documented pattern).
        handler = SizeLimitUploadHandler(request, settings.EVIDB_MAX_UPLOAD_BYTES)
        request.upload_handlers.insert(0, handler)
        return csrf_protect(self._upload_view)(request, handler)

    def _upload_view(self, request: HttpRequest, handler: SizeLimitUploadHandler) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        status = 200
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES)
            valid = form.is_valid()
            if handler.exceeded_name is not None:
                valid = False
                form.errors["file"] = form.error_class(
                    [
                        too_large_message(
                            None, settings.EVIDB_MAX_UPLOAD_BYTES, name=handler.exceeded_name
                        )
                    ]
                )
            if valid:
                return self._run_import(request, form)
            if form.has_error("file", "too_large") or handler.exceeded_name is not None:
                status = 413
        else:
            form = ImportUploadForm()
        fieldsets = [
            (None, {"fields": ["file", "format"]}),
            ("Options", {"fields": ["dry_run", "on_duplicate", "skip_invalid"]}),
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Import citation file",
            "opts": self.opts,
            "form": form,
            "adminform": helpers.AdminForm(form, fieldsets, {}),
            "errors": helpers.AdminErrorList(form, []),
            "media": self.media + form.media,
            "max_upload_bytes": settings.EVIDB_MAX_UPLOAD_BYTES,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.upload_template, context, status=status)

    def _run_import(self, request: HttpRequest, form: ImportUploadForm) -> HttpResponse:
        # Imported here, not at module load: the admin must not depend on the importers
        # being importable to start.
        from evidence.services import study_import

        upload = form.cleaned_data["file"]
        run = study_import(
            stream=upload,
            source_name=upload.name,
            format=form.cleaned_data["format"],
            user=request.user,
            dry_run=form.cleaned_data["dry_run"],
            on_duplicate=form.cleaned_data["on_duplicate"],
            skip_invalid=form.cleaned_data["skip_invalid"],
        )
        self.log_addition(request, run, [{"added": {}}])
        summary = (
            f"{run.records_seen} records: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.skipped} skipped, {run.failed} failed"
        )
        if run.status == ImportStatus.SUCCEEDED:
            level = messages.WARNING if run.failed else messages.SUCCESS
            self.message_user(request, f"Imported {run.source_name}: {summary}.", level)
        elif run.status == ImportStatus.DRY_RUN:
            self.message_user(
                request, f"Dry run of {run.source_name}, nothing saved: {summary}.", messages.INFO
            )
        else:
            self.message_user(
                request,
                f"Import of {run.source_name} failed and nothing was imported; the messages "
                "below say why.",
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:evidence_importrun_change", args=[run.pk]))
