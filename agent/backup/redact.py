"""The redaction rule set for saved configurations: nothing secret reaches the git history.

Applied to every configuration before it is written (and so before any commit or push):

1. the device's own secrets the inventory knows (SSH password, enable secret, SNMP community
   and keys) in every form, by :func:`agent.redaction.redact`, whose general rules also cover
   ``password``/``secret``/``community``/``pre-shared-key`` keywords and PEM keys;
2. :data:`RULES`, the configuration forms those general rules miss or cut in the wrong place:
   RouterOS ``key=value`` items (``/snmp community add name=X``, ``passphrase=``,
   ``authentication-password=``, PPP/IPsec/RADIUS ``secret=``, wireless keys) with quoted
   values, IOS ``key 7 X``/``snmp-server user ... auth sha X priv aes 128 Y``/``crypto isakmp
   key X``, Huawei ``cipher``/``irreversible-cipher``/``simple`` values.

The mask keeps the key word, so the diff still says *which* secret changed (the value never
shows). Each rule is tested against a corpus of realistic configs
(``tests/unit/test_backup_redact.py``), checked absent from the repository history.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from agent.redaction import MASK, redact

if TYPE_CHECKING:
    from collections.abc import Iterable

_VALUE: Final = r'("(?:[^"\\]|\\.)*"|\S+)'
_ROS_KEYS: Final = (
    r"password|secret|passphrase|pre-shared-key|wpa-pre-shared-key|wpa2-pre-shared-key|"
    r"wpa3-pre-shared-key|authentication-password|encryption-password|auth-key|"
    r"static-key-\d|private-key|preshared-key|psk|key"
)
RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # RouterOS: the community *name* is the secret (/snmp community add name=X / set [find] name=X)
    (re.compile(r"^(/snmp community (?:add|set)\b.*?\bname=)" + _VALUE), rf"\1{MASK}"),
    # RouterOS key=value items, values quoted or not
    (re.compile(rf"(?<![\w-])((?:{_ROS_KEYS})=){_VALUE}"), rf"\1{MASK}"),
    # Huawei: [password|community|key ...] cipher/irreversible-cipher/simple VALUE
    (re.compile(r"\b((?:irreversible-)?cipher|simple)(\s+)(\S+)"), rf"\1\2{MASK}"),
    # IOS/Ruijie: key|key-string [0-9] VALUE (key chains, tacacs/radius, isakmp keys)
    (re.compile(r"^(\s*(?:[\w-]+ )*?key(?:-string)?(?: [0-9])?\s+)(\S+)"), rf"\1{MASK}"),
    # IOS SNMPv3 users: auth md5|sha X, priv des|3des|aes [128|192|256] Y
    (
        re.compile(r"\b(auth (?:md5|sha\S*)\s+)(\S+)"),
        rf"\1{MASK}",
    ),
    (re.compile(r"\b(priv (?:des|3des|aes)(?: \d{3})?\s+)(\S+)"), rf"\1{MASK}"),
    # OSPF/BGP digests: message-digest-key N md5 [7] X
    (re.compile(r"\b(message-digest-key \d+ md5(?: [0-9])?\s+)(\S+)"), rf"\1{MASK}"),
    # VRP/Ruijie wireless and IKE pass phrases: pass-phrase [cipher|simple] X
    (re.compile(r"\b(pass-?phrase\s+)(?!cipher\b|simple\b)(\S+)"), rf"\1{MASK}"),
    # wireless: wpa-psk ascii|hex [0|7] X
    (re.compile(r"\b(wpa-psk (?:ascii|hex)(?: [0-9])?\s+)(\S+)"), rf"\1{MASK}"),
)


_PEM: Final = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)


def redact_config(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known ``secrets`` and every secret-looking configuration value masked.

    Line by line (a rule's whitespace pattern must not reach into the next line and mask its first
    word), after whole PEM private keys.
    """
    out = _PEM.sub(f"-----PRIVATE KEY {MASK}-----", text)
    lines = []
    for line in out.split("\n"):
        for pattern, mask in RULES:
            line = pattern.sub(mask, line)  # noqa: PLW2901 - each rule on the last one's result
        lines.append(redact(line, secrets))
    return "\n".join(lines)
