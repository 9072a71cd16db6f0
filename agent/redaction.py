"""One rule set that hides secrets in text sigap stores, logs or shows (errors, transcripts).

Two kinds of rules, applied together by :func:`redact`:

- what sigap knows: the session's secrets (SSH password, SNMP keys, a WhatsApp token) and the
  parts of a delivery URL (user, password, host, path, query values). Each is masked in every
  form an error text may quote it: as written, percent-decoded, percent-encoded (``%40`` or
  ``%2f``, ``+`` for space), HTML- and JSON-escaped, and ``user:password`` as HTTP Basic
  (base64);
- what looks like a secret anywhere: URL user info (``scheme://user:pw@``), query and form
  parameters whose name says pass/token/key/secret/auth/signature (``?pass=``, ``&token=``,
  ``-Authorization=``), ``Authorization:`` header values and ``Bearer``/``Basic`` credentials,
  device configuration keywords (``password 0 x``, ``community x``, ``auth-key=x``), PEM keys.

The mask is :data:`MASK`. Known secrets shorter than :data:`MIN_SECRET_LEN` are left (a port,
a one-letter user would mask ordinary text); the pattern rules have no minimum.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, quote_plus, unquote, unquote_plus

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_HEX: Final = re.compile(r"%[0-9A-F]{2}")

MASK: Final = "***"
MIN_SECRET_LEN: Final = 3  # shorter strings would mask ordinary text
URL_PART_MIN_LEN: Final = 4  # URL parts: ports and short path words stay readable
# Apprise's general options say how to send, not where or with what: their values stay
PLAIN_OPTIONS: Final = frozenset(
    {"format", "overflow", "emojis", "store", "tz", "verify", "rto", "cto", "method", "retry",
     "wait", "optional"}
)  # fmt: skip
AUTH_SCHEMES: Final = frozenset({"basic", "bearer", "digest", "token"})
_NAME_PART: Final = r"[A-Za-z0-9]{1,32}"
# a parameter in a URL names a secret loosely (?key= ?auth= ?sig=) ...
_LOOSE_NAMES: Final = r"(?:pass|pwd|token|secret|key|auth|sig|credential|session|cookie)"
# ... a name: value pair elsewhere only with an unmistakable word ("token: x", "x-api-key=y")
_STRICT_NAMES: Final = (
    r"(?:password|passwd|pass|pwd|token|secret|apikey|api[-_]key|access[-_]key|"
    r"private[-_]key|auth[-_]?key|signature|credentials?)"
)
_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # PEM private keys, whole
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
        ),
        f"-----PRIVATE KEY {MASK}-----",
    ),
    # Authorization / Proxy-Authorization header values, to the end of the line
    (re.compile(r"(?im)\b((?:proxy-)?authorization\b[\"']?\s*[:=]\s*)[^\r\n]+"), rf"\1{MASK}"),
    # credentials after an auth scheme anywhere (a header quoted in a log line)
    (re.compile(r"(?i)\b(bearer)(\s+|%20|\+)[^\s\"',;&]+"), rf"\1\2{MASK}"),
    (re.compile(r"\b(Basic)(\s+|%20|\+)[A-Za-z0-9+/]{6,}={0,2}"), rf"\1\2{MASK}"),
    # user info of any URL: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,31}://)[^\s/?#]+@"), rf"\1{MASK}@"),
    # query, fragment and form parameters named like a secret (?pass= &token= -Authorization=)
    (
        re.compile(
            rf"(?i)([?&;#][-+]?(?:{_NAME_PART}[-_.]){{0,4}}{_NAME_PART}?{_LOOSE_NAMES}[A-Za-z0-9_.-]{{0,32}}=)"
            r"[^&#;\s\"']*"
        ),
        rf"\1{MASK}",
    ),
    # device configuration: keyword, a separator (and IOS type digit), then the value
    (
        re.compile(
            r"(?im)\b(password|passwd|secret|community|auth-key|authentication-key|priv-key|"
            r"pre-shared-key|psk|wpa2?-pre-shared-key)(\s*[=:]\s*(?:\d\s+)?|\s+(?:\d\s+)?)(\S+)"
        ),
        rf"\1\2{MASK}",
    ),
    # name: value and name=value pairs with an unmistakable name ("token: abc", "X-Api-Key=x")
    (
        re.compile(
            rf"(?i)\b((?:{_NAME_PART}[-_]){{0,4}}{_STRICT_NAMES}(?:[-_]{_NAME_PART}){{0,3}}"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
        ),
        rf"\1{MASK}",
    ),
)


def forms(secret: str) -> set[str]:
    """``secret`` as an error text may quote it: raw, decoded, encoded, escaped."""
    found = {secret, unquote(secret), unquote_plus(secret)}
    for text in list(found):
        found |= {
            quote(text, safe=""),
            quote(text),
            quote_plus(text),
            html.escape(text),
            json.dumps(text)[1:-1],
        }
    found |= {_HEX.sub(lambda m: m.group().lower(), f) for f in found}  # %2F and %2f
    return found


def url_secrets(url: str) -> set[str]:
    """The parts of a delivery URL that identify or unlock it (and Basic auth of its user).

    Split by hand, not by ``urlsplit``: Apprise URLs put tokens where a port would be
    (``tgram://bot:token/chat``), passwords may hold ``@``, and the host keeps its case.
    """
    rest = url.partition("://")[2] or url
    found = {url, rest}
    where, _, fragment = rest.partition("#")
    where, _, query = where.partition("?")
    userinfo, at, where = where.rpartition("@")  # the last @: a password may hold "/" and "@"
    hostport, _, path = where.partition("/")
    host, _, port = hostport.rpartition(":") if not hostport.endswith("]") else ("", "", "")
    found |= {hostport, host, port}
    if at:
        user, colon, password = userinfo.partition(":")
        found |= {userinfo, user, password}
        if colon:
            basic = f"{unquote(user)}:{unquote(password)}".encode()
            found.add(base64.b64encode(basic).decode())
    found |= set(re.split(r"[/;,]+", path))
    for item in [*re.split(r"[&;]", query), fragment]:
        name, _, value = item.rpartition("=")
        if unquote(name).lower().lstrip("-+") not in PLAIN_OPTIONS:
            words = unquote_plus(value).split()  # "Bearer%20tok": the token alone too
            found |= {value, *(w for w in words if w.lower() not in AUTH_SCHEMES)}
    return {p for p in found if len(p) >= URL_PART_MIN_LEN}


def _known(secrets: Iterable[str], urls: Iterable[str]) -> Iterator[str]:
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LEN:
            yield from forms(secret)
    for url in urls:
        for part in url_secrets(url):
            yield from (f for f in forms(part) if len(f) >= URL_PART_MIN_LEN)


def redact(text: str, secrets: Iterable[str] = (), *, urls: Iterable[str] = ()) -> str:
    """``text`` with ``secrets``, the parts of ``urls`` and secret-looking values masked."""
    for known in sorted(set(_known(secrets, urls)), key=len, reverse=True):
        text = text.replace(known, MASK)
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    return text
