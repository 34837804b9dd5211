"""``?format=ris`` and friends: the filtered studies streamed as a file.

The writers are ``evidence.exporters``; this module only picks one from the request and
wraps its text chunks in a StreamingHttpResponse, so a 100,000-record export never sits
in memory.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from evidence.exporters import EXPORT_FORMATS, ExportFormat, iter_study_records, stream_export
from evidence.importers.registry import FORMATS as IMPORT_FORMATS

FORMAT_PARAM = "format"


def formats() -> dict[str, ExportFormat]:
    """Export formats by name."""
    return EXPORT_FORMATS


def import_formats() -> list[str]:
    """Input formats the import service reads, "auto" first."""
    return ["auto", *IMPORT_FORMATS]


def requested(request, available: dict) -> str | None:
    """The export format asked for with ?format=, if it is one."""
    name = request.query_params.get(FORMAT_PARAM)
    return name if name in available else None


def response(name: str, queryset: QuerySet, *, filename: str) -> StreamingHttpResponse:
    fmt = EXPORT_FORMATS[name]
    chunks = stream_export(name, iter_study_records(queryset.order_by()))
    streamed = StreamingHttpResponse(
        # stream_export already gives pieces of ~64 KB: one write each.
        (chunk.encode("utf-8") for chunk in chunks),
        content_type=f"{fmt.media_type}; charset=utf-8",
    )
    streamed["Content-Disposition"] = f'attachment; filename="{filename}.{fmt.extension}"'
    return streamed
