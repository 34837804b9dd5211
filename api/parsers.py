"""Request bodies: JSON for the resources, and a body taken as an uploaded file
(``POST /imports/`` without multipart)."""

from __future__ import annotations

import codecs
import re
import tempfile

import orjson
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, DataAndFiles, get_encoding

from api.exceptions import PayloadTooLarge
from api.renderers import ORJSONRenderer

_CHUNK = 64 * 1024
_FILENAME_RE = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


def filename_from(content_disposition: str) -> str:
    match = _FILENAME_RE.search(content_disposition or "")
    return match.group(1).strip() if match else ""


class JSONBodyParser(BaseParser):
    """JSON bodies, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413 beyond), parsed by orjson.

    DRF's parser (the standard library's json) let through what nothing after it could
    handle, each a 500: nesting deep enough to exhaust Python's recursion (RecursionError
    escaped), numbers beyond a double (1e309 became inf, which int() cannot convert), and
    lone surrogates ("\\ud800"), which neither the database nor the JSON renderer can
    encode. orjson refuses all three (it caps nesting at 1024 levels), so they are a 400
    that says where the body is wrong. Django checks its size limit only when the body
    is read through ``request.body``, which DRF does not use, hence the check here.
    """

    media_type = "application/json"
    renderer_class = ORJSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # None: no limit, as in Django
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge(
                f"The JSON body exceeds {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
            )
        encoding = get_encoding(parser_context or {})  # a 400 for a non-text codec
        try:
            if codecs.lookup(encoding).name != "utf-8":
                body = body.decode(encoding)  # charset=latin-1 and the like, as DRF allowed
            return orjson.loads(body)
        except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


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
