"""The ``intake:`` block of the inventory: ``sigap check`` problems and resolved settings."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Final

from agent.config.secrets import read_secret, readable
from agent.intake.settings import ImapSettings, IntakeSettings, WhatsAppSettings
from ticketing.display import shown

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config import schema

DEFAULT_PORTS: Final = {"tls": 993, "starttls": 143, "none": 143}
Where = tuple[str | int, ...]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and 127.0.0.0/8 or ::1 literals."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def intake_problems(
    raw: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> list[tuple[Where, str]]:
    """Unset secrets, plain IMAP to a remote host (path below ``intake``)."""
    block = raw.get("intake")
    if not isinstance(block, dict):
        return []
    return list(_problems(block, env, base))


SECRET_MIN: Final = 16  # agent.chat.signing.SECRET_MIN_BYTES


def _problems(
    block: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Iterator[tuple[Where, str]]:
    imap = block.get("imap")
    if isinstance(imap, dict):
        yield from _imap_problems(imap, env, base)
    wa = block.get("whatsapp")
    if isinstance(wa, dict):
        for key in ("verify_token_env", "app_secret_env", "access_token_env", "action_secret_env"):
            name = wa.get(key)
            if isinstance(name, str) and name and name not in env:
                yield ("whatsapp", key), f"environment variable {name} is not set"
        secret_file = wa.get("action_secret_file")
        if isinstance(secret_file, str) and secret_file and not readable(base / secret_file):
            yield (
                ("whatsapp", "action_secret_file"),
                "cannot read secret file " + shown(str(base / secret_file)),
            )
        if wa.get("action_secret_env") and secret_file:
            yield ("whatsapp", "action_secret_env"), "give action_secret_env or _file, not both"
        name = wa.get("action_secret_env")
        if isinstance(name, str) and name in env and len(env[name].strip().encode()) < SECRET_MIN:
            message = f"{name} is shorter than {SECRET_MIN} bytes (buttons would be forgeable)"
            yield ("whatsapp", "action_secret_env"), message


def _imap_problems(
    imap: Mapping[str, Any], env: Mapping[str, str], base: Path
) -> Iterator[tuple[Where, str]]:
    env_name, file_name = imap.get("password_env"), imap.get("password_file")
    if not env_name and not file_name:
        yield ("imap", "password_env"), "give password_env or password_file"
    if env_name and file_name:
        yield ("imap", "password_env"), "give password_env or password_file, not both"
    if isinstance(env_name, str) and env_name and env_name not in env:
        yield ("imap", "password_env"), f"environment variable {env_name} is not set"
    if isinstance(file_name, str) and file_name and not readable(base / file_name):
        yield ("imap", "password_file"), f"cannot read secret file {shown(str(base / file_name))}"
    reply = imap.get("reply_url_env")
    if isinstance(reply, str) and reply and reply not in env:
        yield ("imap", "reply_url_env"), f"environment variable {reply} is not set"
    authserv = imap.get("authserv_id")
    if imap.get("require_authenticated") is True and not (
        isinstance(authserv, str) and authserv.strip()
    ):
        message = "require_authenticated needs authserv_id (the office mail server's name)"
        yield ("imap", "authserv_id"), message
    host = imap.get("host")
    if imap.get("tls") == "none" and isinstance(host, str) and not is_loopback(host):
        message = f"plain IMAP only to localhost (got {host!r}); use tls or starttls"
        yield ("imap", "tls"), message


def intake_settings(
    block: schema.IntakeBlock, env: Mapping[str, str], base: Path
) -> IntakeSettings:
    """Resolve the block (problems were reported by :func:`intake_problems` first)."""
    imap = None
    if block.imap is not None:
        b = block.imap
        imap = ImapSettings(
            host=b.host,
            port=b.port or DEFAULT_PORTS[b.tls],
            tls=b.tls,
            user=b.user,
            password=read_secret(b.password_env, b.password_file, env, base),
            folder=b.folder,
            poll_interval=b.poll_interval,
            idle_timeout=b.idle_timeout,
            allowed_domains=tuple(d.casefold().lstrip("@") for d in b.allowed_domains),
            reply_url=env.get(b.reply_url_env, "") if b.reply_url_env else "",
            reply_domain=b.reply_domain,
            require_authenticated=b.require_authenticated,
            authserv_id=(b.authserv_id or "").strip(),
        )
    wa = None
    if block.whatsapp is not None:
        w = block.whatsapp
        wa = WhatsAppSettings(
            verify_token=env.get(w.verify_token_env, ""),
            app_secret=env.get(w.app_secret_env, ""),
            phone_number_id=w.phone_number_id,
            access_token=env.get(w.access_token_env, "") if w.access_token_env else "",
            api_base=w.api_base.rstrip("/"),
            reply_template=w.reply_template,
            template_language=w.template_language,
            action_secret=_action_secret(w, env, base),
            action_template=w.action_template,
            listen=w.listen,
            path=w.path,
        )
    return IntakeSettings(
        imap=imap,
        whatsapp=wa,
        max_message_bytes=block.max_message_bytes,
        max_attachment_bytes=block.max_attachment_bytes,
        max_attachments=block.max_attachments,
        metrics_listen=block.metrics_listen,
    )


def _action_secret(w: schema.WhatsAppBlock, env: Mapping[str, str], base: Path) -> str:
    if not w.action_secret_env and not w.action_secret_file:
        return ""
    return read_secret(w.action_secret_env, w.action_secret_file, env, base).strip()
