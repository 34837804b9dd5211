"""A request body taken as an uploaded file (``POST /imports/`` without multipart)."""

from __future__ import annotations

import re
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from rest_framework.parsers import BaseParser, DataAndFiles

from api.exceptions import PayloadTooLarge

_CHUNK = 64 * 1024
_FILENAME_RE = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


def filename_from(content_disposition: str) -> str:
    match = _FILENAME_RE.search(content_disposition or "")
    return match.group(1).strip() if match else ""


class RawUploadParser(BaseParser):
    """Any media type: the body, read in chunks into a spooled temporary file, refused
    with 413 beyond EVIDB_MAX_UPLOAD_BYTES (also when no Content-Length announced it)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.EVIDB_MAX_UPLOAD_BYTES
        # Handed on inside an UploadedFile; the import view closes it when done.
        spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        size = 0
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                spool.close()
                raise PayloadTooLarge(f"The upload exceeds {limit} bytes (EVIDB_MAX_UPLOAD_BYTES).")
            spool.write(chunk)
        spool.seek(0)
        name = ""
        if request is not None:
            name = request.query_params.get("filename") or filename_from(
                request.headers.get("Content-Disposition", "")
            )
        upload = UploadedFile(file=spool, name=name or "upload", content_type=media_type, size=size)
        return DataAndFiles({}, {"file": upload})
