"""The resolved ``intake:`` block (secrets read at load time, never printed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """The mailbox complaints arrive in."""

    host: str
    port: int
    tls: str  # "tls", "starttls" or "none" (localhost only)
    user: str
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    poll_interval: timedelta = timedelta(seconds=60)
    idle_timeout: timedelta = timedelta(minutes=10)
    allowed_domains: tuple[str, ...] = ()
    reply_url: str = field(default="", repr=False)  # Apprise mailto URL for replies
    reply_domain: str = "sigap.local"
    require_authenticated: bool = False
    authserv_id: str = ""


@dataclass(frozen=True, slots=True)
class WhatsAppSettings:
    """The WhatsApp Business Cloud API webhook and reply sender."""

    verify_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    phone_number_id: str
    access_token: str = field(default="", repr=False)
    api_base: str = "https://graph.facebook.com/v21.0"
    reply_template: str = "sigap_pengaduan"
    template_language: str = "id"
    action_secret: str = field(default="", repr=False)  # signs SOP buttons; "": no actions
    action_template: str = "sigap_aksi"
    listen: str = "127.0.0.1:8470"
    path: str = "/intake/whatsapp"


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """Complaint intake: either channel may be absent (then nothing listens for it)."""

    imap: ImapSettings | None = None
    whatsapp: WhatsAppSettings | None = None
    max_message_bytes: int = 10 * 1024 * 1024
    max_attachment_bytes: int = 2 * 1024 * 1024
    max_attachments: int = 10
    metrics_listen: str = ""  # /metrics of ``sigap intake``; "" = none
