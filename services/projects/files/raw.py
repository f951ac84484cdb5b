"""Raw file bytes in and out: any media type in, bounded by the per-file limit; no Accept check out."""

from __future__ import annotations

from django.conf import settings
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser

from files.revisions import FileTooLarge


class RawBytesParser(BaseParser):
    """Accepts every media type: a file PUT's body is the file, whatever the client calls it."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = settings.OASIS["MAX_FILE_BYTES"]
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise FileTooLarge(f"A file may be at most {limit} bytes.", details={"limit": limit})
        return data


def request_bytes(request) -> bytes:
    """The body of a raw-bytes request; an empty body (no stream at all) is an empty file."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.OASIS["MAX_FILE_BYTES"]
    if length.isdigit() and int(length) > limit:
        # Refused before reading: the declared size is already too much.
        raise FileTooLarge(f"A file may be at most {limit} bytes.", details={"limit": limit})
    data = request.data
    return data if isinstance(data, bytes) else b""


class AnyAccept(DefaultContentNegotiation):
    """A file's bytes are answered whatever Accept says; errors still use the JSON renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
