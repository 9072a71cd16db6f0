"""A photo sent with "selesai <nomor>": fetched from the Cloud API, capped and type-checked.

The webhook names only a media id. ``GET {api_base}/{id}`` (bearer token) answers the
download URL, which is fetched with the token too; the URL must be ``https`` or on the
API's own origin (a test's 127.0.0.1), never anything else the answer might name. The body
is read up to the cap plus one byte (more: refused), and the type is decided by the magic
bytes (JPEG, PNG, WebP), never by what the API or the sender claims. Blocking (``urllib``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ticketing.chat import Photo

if TYPE_CHECKING:
    from agent.intake.settings import WhatsAppSettings

TIMEOUT: Final = 15.0
META_MAX: Final = 64 * 1024
MAGIC: Final = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


class MediaError(ValueError):
    """A photo that is not kept; the message says why (Indonesian, for the sender)."""


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None when not an accepted picture."""
    for magic, mime, ext in MAGIC:
        if data.startswith(magic):
            return mime, ext
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":  # noqa: PLR2004
        return "image/webp", "webp"
    return None


def checked(data: bytes, cap: int, name: str) -> Photo:
    """``data`` as a :class:`Photo`; MediaError when over ``cap`` or not a picture."""
    if len(data) > cap:
        raise MediaError(f"foto lebih dari {cap // 1024} KB")
    kind = sniff(data)
    if kind is None:
        raise MediaError("berkas bukan foto JPEG, PNG atau WebP")
    return Photo(f"{name}.{kind[1]}", kind[0], data)


class MediaFetcher:
    """Downloads one media id through the Cloud API (``fetch(media_id) -> Photo``)."""

    def __init__(self, settings: WhatsAppSettings, cap: int, timeout: float = TIMEOUT) -> None:
        """Use ``settings``' API base and token; refuse bodies over ``cap`` bytes."""
        self.settings = settings
        self.cap = cap
        self.timeout = timeout

    def _get(self, url: str, limit: int) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - checked by _allowed
            url, headers={"Authorization": f"Bearer {self.settings.access_token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data: bytes = response.read(limit + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise MediaError(f"foto tidak dapat diunduh ({type(exc).__name__})") from exc
        if len(data) > limit:
            raise MediaError(f"foto lebih dari {self.cap // 1024} KB")
        return data

    def _allowed(self, url: str) -> bool:
        parts, api = urlsplit(url), urlsplit(self.settings.api_base)
        same_origin = (parts.scheme, parts.netloc) == (api.scheme, api.netloc)
        return parts.scheme == "https" or same_origin

    def __call__(self, media_id: str) -> Photo:
        """The picture of ``media_id``; MediaError when it cannot be had or is refused."""
        if not media_id.isascii() or not media_id.isalnum() or len(media_id) > 64:  # noqa: PLR2004
            raise MediaError("id media tidak sah")
        raw = self._get(f"{self.settings.api_base}/{media_id}", META_MAX)
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise MediaError("jawaban API media tidak terbaca") from exc
        url = meta.get("url") if isinstance(meta, dict) else None
        if not isinstance(url, str) or not self._allowed(url):
            raise MediaError("alamat unduhan foto tidak sah")
        return checked(self._get(url, self.cap), self.cap, f"foto-{media_id}")
