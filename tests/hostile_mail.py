"""Mail as an attacker (or a broken client) sends it: issue 17's examples and a seeded fuzz.

:data:`EXAMPLES` are the messages the review used to stop intake; :func:`fuzz` makes a
reproducible corpus of hostile header sets and MIME trees; :func:`legit` a good complaint.
"""

from __future__ import annotations

import random
from typing import Final

KNOWN: Final = "budi@dinkes.test"  # a person of the test inventories (Dinas Kesehatan)
OUTCOMES: Final = frozenset(
    {
        "created", "joined", "duplicate", "rejected_malformed", "unknown_sender", "auto_reply",
        "bulk", "bounce", "oversized", "unauthenticated",
    }
)  # fmt: skip


def message(headers: list[tuple[str, str]], body: str = "Isi pengaduan.\r\n") -> bytes:
    """Headers as given (no checks), a blank line, the body (surrogates as raw bytes)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + "\r\n" + body).encode("utf-8", "surrogateescape")


def _base(mid: str, sender: str = KNOWN, subject: str = "Internet mati") -> list[tuple[str, str]]:
    return [
        ("From", sender),
        ("To", "pengaduan@diskominfo.test"),
        ("Subject", subject),
        ("Message-ID", mid),
        ("Date", "Thu, 03 Dec 2026 09:00:00 +0800"),
    ]


def legit(n: int, sender: str = KNOWN) -> bytes:
    """A good complaint ``<legit-n@dinkes.test>`` (a ticket, or a join of the sender's)."""
    return message(_base(f"<legit-{n}@dinkes.test>", sender, f"Pengaduan {n}"), "Tolong.\r\n")


def nested(depth: int) -> bytes:
    """``depth`` multiparts inside each other (RecursionError in the stdlib walkers)."""
    head = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    tail = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return message(
        [*_base("<nested@dinkes.test>"), ("MIME-Version", "1.0"),
         ("Content-Type", "multipart/mixed; boundary=b0")],
        head + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nisi\r\n" + tail,
    )  # fmt: skip


def many_parts(count: int, disposition: str = "attachment") -> bytes:
    """``count`` small text parts, each with a Content-Disposition."""
    part = f"--p\r\nContent-Type: text/plain\r\nContent-Disposition: {disposition}\r\n\r\nx\r\n"
    return message(
        [*_base("<parts@dinkes.test>"), ("MIME-Version", "1.0"),
         ("Content-Type", "multipart/mixed; boundary=p")],
        part * count + "--p--\r\n",
    )  # fmt: skip


def _plus(mid: str, name: str, value: str, body: str = "isi") -> bytes:
    return message([*_base(mid), (name, value)], body + "\r\n")


def _with(name: str, value: str, mid: str) -> bytes:
    headers = [(k, v) for k, v in _base(mid) if k != name] + [(name, value)]
    return message(headers)


QUOTED_LOCAL: Final = '"a@outside.example,b@outside.example"@dinkes.test'
MANY_REFERENCES: Final = " ".join(f"<r{i}@x>" for i in range(5000))
EXAMPLES: Final = (
    ("message-id <", _with("Message-ID", "<", "")),
    ("message-id <@>", _with("Message-ID", "<@>", "")),
    ("from quote", _with("From", '"', "<ex-from-quote@x.test>")),
    ("from <", _with("From", "<", "<ex-from-lt@x.test>")),
    ("from empty", _with("From", "", "<ex-from-empty@x.test>")),
    ("two from", message([*_base("<ex-two-from@x.test>"), ("From", "sari@bpkad.test")])),
    ("quoted local", _with("From", QUOTED_LOCAL, "<ex-q@x.test>")),
    ("group", _with("From", "undisclosed: a@outside.example, budi@dinkes.test;", "<ex-g@x.test>")),
    ("nested 1000", nested(1000)),
    ("nested 250", nested(250)),
    ("nul body", message(_base("<ex-nul-body@dinkes.test>"), "mati\x00total\r\n")),
    ("nul subject", message(_base("<ex-nul-subj@dinkes.test>", subject="mati\x00total"))),
    ("long message-id", _with("Message-ID", "<" + "m" * 300 + "@dinkes.test>", "")),
    ("long address", _with("From", "a" * 210 + "@dinkes.test", "<ex-long-addr@x.test>")),
    ("long domain", _with("From", "budi@" + "d" * 250 + ".test", "<ex-long-dom@x.test>")),
    ("surrogate subject", message(_base("<ex-sur@dinkes.test>", subject="b\udcffad"))),
    ("bad charset", _plus("<ex-cs@x>", "Content-Type", "text/plain; charset=x-nope", "\udcff")),
    ("bad base64", _plus("<ex-b64@x>", "Content-Transfer-Encoding", "base64", "!!!*")),
    ("encoded word", _with("Subject", "=?utf-8?b?AAAA?= =?x-bad?q?=00?=", "<ex-ew@dinkes.test>")),
    ("huge references", _plus("<ex-refs@x>", "References", MANY_REFERENCES)),
    ("quotes in content-type", _with("Content-Type", '"' * 20000, "<ex-ctq@dinkes.test>")),
    ("backslashes in from", _with("From", "\\" * 20000, "<ex-fbs@dinkes.test>")),
    ("200 parts", many_parts(200)),
    ("empty", b""),
    ("garbage", bytes(range(256)) * 4),
)  # fmt: skip

# -- the fuzz ---------------------------------------------------------------------------

HEADER_NAMES: Final = (
    "From", "Sender", "Reply-To", "To", "Cc", "Subject", "Message-ID", "In-Reply-To",
    "References", "Date", "Return-Path", "Content-Type", "Content-Transfer-Encoding",
    "Content-Disposition", "MIME-Version", "Auto-Submitted", "Precedence", "List-Id",
    "Authentication-Results", "X-Weird",
)  # fmt: skip
PIECES: Final = (
    "<", ">", "<@>", '"', "\\", "@", ",", ";", ":", "(", ")", "[", "]", "=?", "?=", "=?utf-8?b?",
    "=?utf-8?q?", "=?x?x?", "=00", "\x00", "\x1b[2J", "\r", "\n ", "\t", " ", "boundary=",
    "charset=", "name*=", "''", "%", "*0*=", "group:", "budi", "dinkes.test", KNOWN, "Budi",
    "\u202e", "\udcff", "\u00e9", "x" * 300, "multipart/mixed", "text/plain", "base64",
    "quoted-printable", "pass", "fail", "dkim=", "spf=", "<legit-0@dinkes.test>", "GJ/2026/0001",
)  # fmt: skip
TYPES: Final = (
    "text/plain", "text/html", "multipart/mixed", "multipart/alternative", "message/rfc822",
    "multipart/report", "application/octet-stream", "text/plain; charset=utf-16",
    "text/html; charset=x-unknown", "multipart/mixed; boundary=", "multipart/digest",
)  # fmt: skip


def _value(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))


def _headers(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out = [] if rng.random() < 0.3 else [("From", KNOWN if rng.random() < 0.5 else _value(rng))]
    for _ in range(rng.randint(0, 10)):
        name = rng.choice(HEADER_NAMES) if rng.random() < 0.9 else _value(rng).strip(":") or "X"
        out.append((name, _value(rng)))
    if rng.random() < 0.5:
        out.append(("Message-ID", f"<fuzz-{n}@x.test>"))
    return out


def _tree(rng: random.Random, depth: int) -> tuple[list[tuple[str, str]], str]:
    kind = rng.choice(TYPES)
    if not kind.startswith("multipart/") or depth > 6:
        headers = [("Content-Type", kind)]
        if rng.random() < 0.3:
            headers.append(
                (
                    "Content-Transfer-Encoding",
                    rng.choice(("base64", "quoted-printable", "8bit", "x")),
                )
            )
        if rng.random() < 0.3:
            headers.append(("Content-Disposition", f'attachment; filename="{_value(rng)}"'))
        return headers, _value(rng) + "\r\n"
    boundary = f"b{depth}{rng.randint(0, 9)}" if rng.random() < 0.9 else ""
    parts = [_tree(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    body = "".join(
        f"--{boundary}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h) + "\r\n" + b for h, b in parts
    )
    if rng.random() < 0.8:
        body += f"--{boundary}--\r\n"
    return [("Content-Type", f"{kind.split(';')[0]}; boundary={boundary}")], body


def fuzz(count: int, seed: int = 17) -> list[bytes]:
    """``count`` hostile messages, the same for the same seed: header sets and MIME trees."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        headers = _headers(rng, n)
        if rng.random() < 0.5:
            tree_headers, body = _tree(rng, 0)
            out.append(message([*headers, ("MIME-Version", "1.0"), *tree_headers], body))
        else:
            out.append(message(headers, _value(rng) + "\r\n"))
    return out


# -- an inventory for intake tests --------------------------------------------------------

INVENTORY: Final = """\
office: {{name: Dinas Komunikasi dan Informatika, timezone: Asia/Makassar}}
defaults: {{platform: mikrotik_routeros, role: router}}
hosts:
  rtr-dinkes: {{address: 10.52.30.1, opd: Dinas Kesehatan}}
  rtr-bpkad: {{address: 10.52.30.2, opd: BPKAD}}
people:
  - {{name: Kasi Jaringan, role: kasi}}
  - {{name: Lalu Kadis, role: kadis, email: kadis@kominfo.test}}
  - {{name: Budi Dinkes, role: pj_opd, opd: Dinas Kesehatan, email: budi@dinkes.test,
      phone: "0812-1111-2222"}}
  - {{name: Ani Dinkes, role: pj_opd, opd: Dinas Kesehatan, email: ani@dinkes.test}}
  - {{name: Sari BPKAD, role: pj_opd, opd: BPKAD, email: sari@bpkad.test}}
intake:
  imap: {{host: 127.0.0.1, port: {port}, tls: none, user: pengaduan,
         password_env: SIGAP_TEST_IMAP, poll_interval: 1s, idle_timeout: 30s,
         allowed_domains: [pemda.test]{imap_extra}}}
  whatsapp: {{verify_token_env: SIGAP_TEST_IMAP, app_secret_env: SIGAP_TEST_IMAP,
             phone_number_id: "1234"}}
{intake_extra}"""


def inventory_text(port: int = 143, imap_extra: str = "", intake_extra: str = "") -> str:
    """:data:`INVENTORY` for an IMAP server on 127.0.0.1:``port`` (extra ``intake.imap`` keys,
    extra ``intake`` lines)."""
    return INVENTORY.format(
        port=port,
        imap_extra=f", {imap_extra}" if imap_extra else "",
        intake_extra=f"{intake_extra}\n" if intake_extra else "",
    )
