"""Hostile mail through a real dovecot into ``sigap intake`` (issue 17, finding 1).

The review's examples and a seeded fuzz corpus of a few thousand header sets and MIME trees
are dropped into the mailbox with good complaints between them; a real ``sigap intake``
process must flag every message processed or rejected, make tickets of the good ones, record
the quarantined ones, and still be running at the end. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient

from agent.config.load import load_inventory
from agent.intake.handler import WaMessage
from agent.intake.stats import IntakeStats
from agent.wiring import build_intake_handler
from tests.conftest import wait_for
from tests.hostile_mail import EXAMPLES, fuzz, inventory_text, legit
from tests.hostile_text import CORPUS
from tests.integration import dovecot_server
from ticketing.intake import IntakeLedger
from ticketing.migrate import migrate
from ticketing.store import TicketStore
from ticketing.workflow import Source

pytestmark = pytest.mark.integration

FUZZ = 2500
LEGIT_EVERY = 500
SIGAP = Path(sys.executable).with_name("sigap")


def drop(server: dovecot_server.Dovecot, messages: list[bytes]) -> None:
    """Write the messages straight into the Maildir (tmp/ then new/), owned by the mail uid."""
    nobody = pwd.getpwnam("nobody")
    maildir = server.root / "home" / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(exist_ok=True)
        os.chown(maildir / sub, nobody.pw_uid, nobody.pw_gid)
    for n, raw in enumerate(messages):
        name = f"17{n:07d}.M{n}P1.sigaptest"
        tmp = maildir / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
        tmp.rename(maildir / "new" / name)


def mailbox_state(server: dovecot_server.Dovecot) -> tuple[int, int, int]:
    """(messages, not yet flagged $SigapDone, flagged $SigapRejected)."""
    with IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=30) as client:
        client.login(dovecot_server.USER, dovecot_server.PASSWORD)
        client.select_folder("INBOX", readonly=True)
        every = client.search(["ALL"])
        pending = client.search(["UNKEYWORD", "$SigapDone"])
        rejected = client.search(["KEYWORD", "$SigapRejected"])
        return len(every), len(pending), len(rejected)


def intake_counts(port: int) -> dict[str, float]:
    """``sigap_intake_messages_total`` of the e-mail channel, from sigap intake's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = r'^sigap_intake_messages_total\{channel="email",result="(\w+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.MULTILINE)}


def settled(server: dovecot_server.Dovecot, total: int) -> tuple[int, int, int] | None:
    """The mailbox state once all ``total`` messages are there and flagged, else None."""
    state = mailbox_state(server)
    return state if state[0] == total and state[1] == 0 else None


def test_hostile_corpus_never_stops_sigap_intake(tmp_path, dovecot, db_url):
    inventory = tmp_path / "inventory.yaml"
    metrics_port = dovecot_server.free_port()
    listen = f"  metrics_listen: 127.0.0.1:{metrics_port}"
    inventory.write_text(inventory_text(dovecot.port, intake_extra=listen))
    corpus = [raw for _name, raw in EXAMPLES] + [legit(0)]
    for n, raw in enumerate(fuzz(FUZZ, seed=1717), start=1):
        corpus.append(raw)
        if n % LEGIT_EVERY == 0:
            corpus.append(legit(n))
    good = [f"<legit-{n}@dinkes.test>" for n in range(0, FUZZ + 1, LEGIT_EVERY)]
    drop(dovecot, corpus)
    env = {**os.environ, "SIGAP_TEST_IMAP": dovecot_server.PASSWORD}
    log = (tmp_path / "intake.log").open("wb")
    cmd = [
        str(SIGAP),
        "intake",
        "-i",
        str(inventory),
        "--db",
        db_url,
        "--no-notify",
        "--no-webhook",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        state = wait_for(
            "every message flagged", lambda: settled(dovecot, len(corpus)), 600, 2
        )  # 600 s: hang guard
        assert proc.poll() is None, (tmp_path / "intake.log").read_text()[-3000:]
        store = TicketStore(db_url, tz="Asia/Makassar")
        ledger = IntakeLedger(store, None, now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
        assert ledger.seen(Source.EMAIL, good) == set(good)
        quarantined = ledger.rejections(Source.EMAIL)
        assert {r for _m, r, _d in quarantined} == {"rejected_malformed"}
        assert any("more than 300 MIME headers" in d for _m, _r, d in quarantined)
        assert any("IndexError" in d for _m, _r, d in quarantined)  # the parser tripped
        assert 0 < len(quarantined) <= state[2]  # every record flagged; screened mail too
        counted = intake_counts(metrics_port)
        assert counted["rejected_malformed"] >= len(quarantined)  # identical fuzz: one record
        assert counted["created"] >= len(good)
        # still taking mail: one more good complaint after the corpus becomes a ticket
        drop(dovecot, [legit(FUZZ + 1, "ani@dinkes.test")])
        late = f"<legit-{FUZZ + 1}@dinkes.test>"
        wait_for("the late complaint", lambda: ledger.seen(Source.EMAIL, [late]) or None, 60, 0.5)
        assert proc.poll() is None
        store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0, (tmp_path / "intake.log").read_text()[-3000:]


def test_hostile_whatsapp_text_and_examples_are_stored_on_both_databases(
    tmp_path, db_url, monkeypatch
):
    monkeypatch.setenv("SIGAP_TEST_IMAP", "x")
    path = tmp_path / "inventory.yaml"
    path.write_text(inventory_text())
    store = TicketStore(db_url, tz="Asia/Makassar")
    migrate(store)
    at = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    handler = build_intake_handler(load_inventory(path), store, lambda: at)
    handler.stats = IntakeStats()
    for n, hostile in enumerate(CORPUS):
        wa = WaMessage(f"wamid.{n}" + "9" * 300, "6281211112222", "Budi\x00\x1b", hostile.text, at)
        assert handler.whatsapp_blocking(wa) in {"created", "joined"}
    results = {name: handler.mail_blocking(raw, at) for name, raw in EXAMPLES}
    for name in ("nul body", "nul subject", "long message-id", "surrogate subject"):
        assert results[name] == "created", name
    assert handler.stats.get("wa", "rejected_malformed") == 0
    tickets = store.list(limit=100)
    assert all("\x00" not in t.description and "\x00" not in t.reporter for t in tickets)
    wa_ticket = next(t for t in tickets if t.source == "wa")
    stored = [mid for _c, mid, _o, _r in handler.ledger.messages(wa_ticket.number)]
    assert len(stored) == len(CORPUS)
    assert max(map(len, stored)) <= 255
    store.close()
