"""Hostile mail and WhatsApp text never stop intake (issue 17, findings 1-3), on SQLite.

Every message of the review's examples and of a seeded fuzz ends created, joined or
rejected (quarantined ones recorded with their reason and counted), later good mail still
becomes tickets; text is storable; a sender joins only tickets of their OPD or their own; the
office server's Authentication-Results are honoured; intake parts fail independently.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy.exc import DataError, OperationalError

from agent.config.load import load_inventory
from agent.intake.config import intake_problems
from agent.intake.handler import WaMessage
from agent.intake.imap import ImapWatcher
from agent.intake.mail import authenticated, html_to_text, read
from agent.intake.runner import supervised
from agent.intake.settings import ImapSettings
from agent.intake.stats import IntakeStats
from agent.runtime.metrics import Metrics
from agent.wiring import build_intake_handler
from tests.hostile_mail import (
    EXAMPLES,
    OUTCOMES,
    fuzz,
    inventory_text,
    legit,
    many_parts,
    message,
)
from tests.hostile_text import CORPUS
from ticketing import storable
from ticketing.intake import ack_message_id
from ticketing.mailids import mailbox, message_ids_in
from ticketing.migrate import migrate
from ticketing.models import IntakeMessage, IntakeRejection, Ticket
from ticketing.store import TicketStore
from ticketing.workflow import Source

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def _now() -> datetime:
    return AT


def make_handler(tmp_path, monkeypatch, imap_extra: str = ""):
    monkeypatch.setenv("SIGAP_TEST_IMAP", "x")
    path = tmp_path / "inventory.yaml"
    path.write_text(inventory_text(imap_extra=imap_extra))
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "intake.db"), tz="Asia/Makassar")
    migrate(store)
    handler = build_intake_handler(load_inventory(path), store, _now)
    handler.stats = IntakeStats()
    return handler, store


@pytest.fixture
def intake(tmp_path, monkeypatch):
    handler, store = make_handler(tmp_path, monkeypatch)
    yield handler, store
    store.close()


def mail(mid: str, sender: str, subject: str, body: str = "Isi.", **headers: str) -> bytes:
    extra = [(k.replace("_", "-"), v) for k, v in headers.items()]
    base = [("From", sender), ("To", "pengaduan@diskominfo.test"), ("Subject", subject),
            ("Message-ID", mid), ("Date", "Thu, 03 Dec 2026 09:00:00 +0800")]  # fmt: skip
    return message([*base, *extra], body + "\r\n")


def accepted(store) -> set[str]:
    with store.transaction(write=False) as s:
        return set(
            s.scalars(IntakeMessage.__table__.select().with_only_columns(IntakeMessage.message_id))
        )


# -- storable text -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", CORPUS, ids=range(len(CORPUS)))
def test_storable_text_has_no_control_character_and_keeps_the_words(hostile):
    body, line = storable.body(hostile.text), storable.line(hostile.text, 120)
    assert not [c for c in body if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not [c for c in line if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F]
    assert (
        hostile.marker.replace("\x00", "") in body.replace("\n", " ") or len(hostile.marker) > 120
    )
    assert len(line) <= 120
    assert "\ud800" not in storable.body("a\ud800b")
    assert storable.line("a\udcffb") == "a b"


def test_lengths_come_from_the_models_and_long_keys_stay_distinct():
    assert storable.length_of(IntakeMessage.message_id) == 255
    assert storable.length_of(Ticket.reporter_contact) == 200
    assert storable.length_of(IntakeMessage.subject) is None  # Text
    a, b = storable.key("<" + "a" * 300 + ">", 255), storable.key("<" + "a" * 299 + "b>", 255)
    assert a != b
    assert max(len(a), len(b)) <= 255
    assert storable.key("<short@x>", 255) == "<short@x>"
    doc = storable.document({"h\x00": ["x\x00y", {"k": "\x1b[2J"}], "n": 3})
    assert doc == {"h": ["xy", {"k": "[2J"}], "n": 3}


# -- one plain mailbox ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["budi@dinkes.test", "Budi.X+tag@Dinkes.Test", "a_b-c@sub.pemda.test", "x!#$%&*/=?^{|}~@a.id"],
)
def test_plain_mailboxes_pass_lowercased(address):
    assert mailbox(address) == address.casefold()


@pytest.mark.parametrize(
    "address",
    [
        '"a@outside.example,b@outside.example"@dinkes.test',
        '"budi"@dinkes.test',
        "a@outside.example,b@dinkes.test",
        "a b@dinkes.test",
        "o'neil@dinkes.test",
        "budi@dinkes.test\nbcc@x.test",
        "budi@[10.0.0.1]",
        "budi@localhost",
        "budi@dinkes.test.",
        ".budi@dinkes.test",
        "budi..x@dinkes.test",
        "b" * 65 + "@dinkes.test",
        "budi@" + "d" * 64 + ".test",
        "budi@" + ("a" * 60 + ".") * 5 + "test",
        "budi",
        "",
    ],
)
def test_anything_but_one_plain_mailbox_is_refused(address):
    assert mailbox(address) is None


def test_references_keep_their_angle_brackets_newest_first_in_reply_to_before():
    refs = " ".join(f"<r{i}@x>" for i in range(50))
    ids = message_ids_in("<irt@x>", f"{refs} junk <a b> <r49@x>")
    assert ids[0] == "<irt@x>"
    assert "<r49@x>" in ids
    assert "<r0@x>" not in ids
    assert len(ids) == 20


# -- quarantine ----------------------------------------------------------------------------


def test_review_examples_are_each_handled_and_good_mail_after_them_becomes_tickets(intake):
    handler, store = intake
    results = {name: handler.mail_blocking(raw, AT) for name, raw in EXAMPLES}
    assert set(results.values()) <= OUTCOMES
    for name in ("from quote", "from <", "quoted local", "group", "nested 1000", "long address",
                 "quotes in content-type", "backslashes in from", "200 parts"):  # fmt: skip
        assert results[name] == "rejected_malformed", name
    for name in ("message-id <", "message-id <@>", "nul body", "nul subject", "long message-id",
                 "nested 250"):  # fmt: skip
        assert results[name] == "created", name  # processed: derived id, text normalised
    quarantined = handler.ledger.rejections(Source.EMAIL)
    assert len(quarantined) == handler.stats.get("email", "rejected_malformed")
    details = " ".join(d for _m, _r, d in quarantined)
    assert "more than 300 MIME headers" in details  # 1,000 nested multiparts, never parsed
    assert "From is not exactly one plain mailbox" in details
    assert {r for _m, r, _d in quarantined} == {"rejected_malformed"}
    assert [handler.mail_blocking(legit(n), AT) for n in range(3)] == ["created"] * 3
    assert {"<legit-0@dinkes.test>", "<legit-2@dinkes.test>"} <= accepted(store)
    # the same bad message again: counted again, recorded once
    assert handler.mail_blocking(EXAMPLES[2][1], AT) == "rejected_malformed"
    assert len(handler.ledger.rejections(Source.EMAIL)) == len(quarantined)


@pytest.mark.parametrize(
    "make",
    [
        lambda: mail("<q1@x>", "budi@dinkes.test", "x", Content_Type='a/b; c="' + '"' * 20000),
        lambda: mail("<q2@x>", "\\" * 2_000_000, "x"),
        lambda: mail("<q3@x>", "budi@dinkes.test", "=;" * 600),
        lambda: many_parts(200),
    ],
    ids=["quotes-content-type", "4-MB-from", "subject-over-a-line", "200-parts"],
)
def test_mail_too_costly_to_parse_is_quarantined_before_parsing(intake, monkeypatch, make):
    handler, _store = intake
    raw = make()
    monkeypatch.setattr("agent.intake.handler.read", lambda _raw: pytest.fail("parsed"))
    assert handler.mail_blocking(raw, AT) == "rejected_malformed"
    ((_mid, _reason, detail),) = handler.ledger.rejections(Source.EMAIL)
    assert "longer than" in detail or "more than" in detail


def test_a_normal_mail_with_ten_attachments_and_long_names_is_taken(intake):
    handler, store = intake
    name = "laporan-gangguan-jaringan-dinas-kesehatan-" + "é" * 60 + ".pdf"
    disposition = f"attachment; filename*=utf-8''{quote(name)}"
    assert handler.mail_blocking(many_parts(10, disposition), AT) == "created"
    (ticket,) = store.list(limit=10)
    assert ticket.opd == "Dinas Kesehatan"


def test_two_messages_with_the_same_broken_message_id_are_two_tickets(intake):
    handler, _store = intake
    one = mail("<", "budi@dinkes.test", "Satu")
    two = mail("<", "budi@dinkes.test", "Dua")
    assert [handler.mail_blocking(m, AT) for m in (one, two)] == ["created", "created"]


def test_a_fuzz_corpus_never_raises_and_the_next_good_mail_is_a_ticket(intake):
    handler, store = intake
    results = [handler.mail_blocking(raw, AT) for raw in fuzz(400, seed=1)]
    assert set(results) <= OUTCOMES
    assert {"rejected_malformed", "created"} <= set(results)
    assert handler.mail_blocking(legit(1), AT) == "created"
    with store.transaction(write=False) as s:
        rows = s.scalars(
            IntakeRejection.__table__.select().with_only_columns(IntakeRejection.reason)
        )
        assert set(rows) == {"rejected_malformed"}


@pytest.mark.parametrize("error", [RecursionError, IndexError, AttributeError, TypeError])
def test_any_error_while_reading_a_mail_quarantines_it(intake, monkeypatch, error):
    handler, _store = intake

    def trip(*_args):
        raise error("deep")

    monkeypatch.setattr("agent.intake.handler.parse", trip)
    assert handler.mail_blocking(legit(7), AT) == "rejected_malformed"
    ((mid, _reason, detail),) = handler.ledger.rejections(Source.EMAIL)
    assert mid == "<legit-7@dinkes.test>"
    assert detail == f"{error.__name__}: deep"


def test_a_value_the_database_refuses_quarantines_the_message(intake, monkeypatch):
    handler, _store = intake

    def refuse(_msg):
        raise DataError("INSERT", {}, Exception("invalid byte sequence"))

    monkeypatch.setattr(handler.ledger, "accept", refuse)
    assert handler.mail_blocking(legit(5), AT) == "rejected_malformed"
    ((mid, reason, detail),) = handler.ledger.rejections(Source.EMAIL)
    assert (mid, reason) == ("<legit-5@dinkes.test>", "rejected_malformed")
    assert "DataError" in detail


def test_a_database_that_is_away_leaves_the_message_for_the_next_round(intake, monkeypatch):
    handler, _store = intake

    def away(_msg):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(handler.ledger, "accept", away)
    with pytest.raises(OperationalError):
        handler.mail_blocking(legit(6), AT)
    assert handler.stats.snapshot() == {}
    assert handler.ledger.rejections(Source.EMAIL) == []


def test_whatsapp_text_with_nul_and_huge_ids_is_stored_and_a_failure_is_quarantined(
    intake, monkeypatch
):
    handler, store = intake
    for hostile in CORPUS:
        wa = WaMessage("wamid." + "9" * 400, "6281211112222", "Budi\x00", hostile.text, AT)
        assert handler.whatsapp_blocking(wa) in {"created", "joined", "duplicate"}
    (ticket,) = [t for t in store.list(limit=10) if t.source == "wa"]
    assert "\x00" not in ticket.description
    monkeypatch.setattr(handler.directory, "by_phone", lambda *_a: 1 / 0)
    assert handler.whatsapp_blocking(WaMessage("w2", "62812", "", "x", AT)) == "rejected_malformed"
    assert handler.ledger.rejections(Source.WA)[0][1] == "rejected_malformed"


def test_quarantined_mail_is_counted_in_the_intake_metric(intake):
    handler, _store = intake
    handler.mail_blocking(EXAMPLES[2][1], AT)
    metrics = Metrics(CollectorRegistry(), version="t", intake=handler.stats.snapshot)
    text = generate_latest(metrics.registry).decode()
    assert 'sigap_intake_messages_total{channel="email",result="rejected_malformed"} 1.0' in text


# -- who may join which ticket -------------------------------------------------------------


def _first(handler, store, mid="<c1@dinkes.test>"):
    assert (
        handler.mail_blocking(mail(mid, "Budi <budi@dinkes.test>", "Internet mati"), AT)
        == "created"
    )
    (ticket,) = store.list(limit=10)
    return ticket.number


def test_another_opd_cannot_join_by_any_path(intake):
    handler, store = intake
    number = _first(handler, store)
    ack = ack_message_id(store, number, domain="sigap.local", now=_now)
    assert ack is not None
    assert number.split("/")[-1] not in ack
    attempts = [
        mail("<s1@bpkad.test>", "sari@bpkad.test", "Re: x", In_Reply_To="<c1@dinkes.test>"),
        mail("<s2@bpkad.test>", "sari@bpkad.test", "Re: x", References=f"<z@z> {ack}"),
        mail("<s3@bpkad.test>", "sari@bpkad.test", f"Re: Pengaduan {number}"),
        # an allowed-domain sender naming the OPD in the text is still not of that OPD
        mail("<s4@pemda.test>", "x@pemda.test", "Dinas Kesehatan", In_Reply_To="<c1@dinkes.test>"),
    ]
    assert [handler.mail_blocking(m, AT) for m in attempts] == ["created"] * 4
    assert all("Pesan lanjutan" not in e.detail for e in store.events(number))


def test_the_reporter_and_their_opd_join_by_references_ack_and_number(intake):
    handler, store = intake
    number = _first(handler, store)
    ack = ack_message_id(store, number, domain="sigap.local", now=_now)
    joins = [
        mail("<b2@dinkes.test>", "budi@dinkes.test", "Re: x", References="<o@x> <c1@dinkes.test>"),
        mail("<b3@dinkes.test>", "budi@dinkes.test", "Re: x", References=str(ack)),
        mail("<a1@dinkes.test>", "ani@dinkes.test", f"Re: {number}"),  # same OPD
    ]
    assert [handler.mail_blocking(m, AT) for m in joins] == ["joined"] * 3
    assert len(store.list(limit=10)) == 1


# -- Authentication-Results ----------------------------------------------------------------

OURS = "mx.kominfo.test"


def _ar(*values: str):
    return read(
        message([("From", "kadis@kominfo.test"), *(("Authentication-Results", v) for v in values)])
    )


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ([f"{OURS}; dmarc=pass header.from=kominfo.test"], True),
        ([f"{OURS}; dkim=pass header.d=kominfo.test; spf=fail"], True),
        (
            [f"{OURS}; spf=pass smtp.mailfrom=kadis@mail.kominfo.test"],
            False,
        ),  # a subdomain does not vouch for its parent
        ([f"{OURS}; spf=pass smtp.mailfrom=kadis@kominfo.test"], True),
        ([f"{OURS} 1; dkim=pass (good) header.d=kominfo.test"], True),
        ([f"{OURS}; dkim=pass header.d=evil.test"], False),  # not aligned
        ([f"{OURS}; dmarc=fail; spf=softfail"], False),
        ([f"{OURS}; none"], False),
        (["other.mx; dmarc=pass"], False),  # another server's word
        ([f"{OURS}; dmarc=fail", f"{OURS}; dmarc=pass"], False),  # a forged one below ours
        ([], False),
    ],
)
def test_only_the_office_servers_pass_counts(values, ok):
    assert authenticated(_ar(*values), "kadis@kominfo.test", OURS) is ok


def test_require_authenticated_stops_a_forged_kadis(tmp_path, monkeypatch):
    extra = f"require_authenticated: true, authserv_id: {OURS}"
    handler, store = make_handler(tmp_path, monkeypatch, extra)
    forged = mail("<k1@x>", "Kadis <kadis@kominfo.test>", "Perintah")
    assert handler.mail_blocking(forged, AT) == "unauthenticated"
    real = mail("<k2@x>", "Kadis <kadis@kominfo.test>", "Perintah",
                Authentication_Results=f"{OURS}; dmarc=pass header.from=kominfo.test")  # fmt: skip
    assert handler.mail_blocking(real, AT) == "created"
    (ticket,) = store.list(limit=10)
    assert ticket.reporter == "Lalu Kadis"
    store.close()


def test_require_authenticated_without_authserv_id_is_a_problem(tmp_path):
    raw = {"intake": {"imap": {"host": "h", "user": "u", "password_env": "P",
                               "require_authenticated": True}}}  # fmt: skip
    problems = intake_problems(raw, {"P": "x"}, tmp_path)
    assert (
        ("imap", "authserv_id"),
        "require_authenticated needs authserv_id (the office mail server's name)",
    ) in problems


# -- parts fail independently --------------------------------------------------------------


async def test_a_failing_part_restarts_and_the_others_keep_running():
    stop = asyncio.Event()
    starts, ticks = [], []
    restarted = asyncio.Event()

    async def flaky() -> None:
        starts.append(1)
        if len(starts) == 3:
            restarted.set()
        if len(starts) < 3:
            raise RuntimeError("boom")
        await stop.wait()

    async def steady() -> None:
        while not stop.is_set():
            ticks.append(1)
            await asyncio.sleep(0.01)

    async def exits() -> None:
        raise SystemExit(1)  # what uvicorn does when it cannot bind

    async with asyncio.timeout(30), asyncio.TaskGroup() as group:
        group.create_task(supervised("flaky", flaky, stop, first=0.01))
        group.create_task(supervised("steady", steady, stop, first=0.01))
        group.create_task(supervised("exits", exits, stop, first=0.01))
        await restarted.wait()
        before = len(ticks)
        await asyncio.sleep(0.1)
        assert len(ticks) > before  # still running while the other failed and restarted
        stop.set()
    assert len(starts) == 3


# -- the watcher never stops before it is told to ------------------------------------------


class FakeImap:
    """Enough of IMAPClient for the watcher: polling (no IDLE), messages by uid, flags."""

    def __init__(self, messages: dict[int, bytes]) -> None:
        self.messages = messages
        self.flags: dict[int, set[bytes]] = {uid: set() for uid in messages}

    def capabilities(self) -> tuple[bytes, ...]:
        return (b"IMAP4rev1",)

    def search(self, _criteria):
        return [uid for uid, flags in self.flags.items() if b"$SigapDone" not in flags]

    def fetch(self, uids, what):
        if "RFC822.SIZE" in what:
            return {u: {b"RFC822.SIZE": len(self.messages[u]), b"INTERNALDATE": AT} for u in uids}
        return {u: {b"BODY[]": self.messages[u]} for u in uids if u in self.messages}

    def add_flags(self, uids, flags) -> None:
        for uid in uids:
            self.flags[uid] |= set(flags)

    def logout(self) -> None:
        """Nothing to close."""


def test_the_watcher_outlives_a_database_outage_and_flags_every_message(intake):
    handler, store = intake
    stop = threading.Event()
    fake = FakeImap({1: EXAMPLES[2][1], 2: legit(1), 3: legit(2)})
    calls = {"outage": 3, "done": 0}

    def flaky(raw, received, size=None):
        if calls["outage"]:
            calls["outage"] -= 1
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        calls["done"] += 1
        if calls["done"] == len(fake.messages):
            stop.set()  # the last one: its flags are still added, then the watcher ends
        return handler.mail_blocking(raw, received, size)

    settings = ImapSettings("127.0.0.1", 143, "none", "pengaduan")
    watcher = ImapWatcher(settings, flaky, max_bytes=10**7, stop=stop)
    watcher.backoff_first = 0.01
    watcher.connect_blocking = lambda: fake  # type: ignore[method-assign]
    thread = threading.Thread(target=watcher.run_blocking, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert fake.flags[1] == {b"$SigapDone", b"$SigapRejected", b"\\Seen"}
    assert fake.flags[2] == fake.flags[3] == {b"$SigapDone", b"\\Seen"}
    assert {"<legit-1@dinkes.test>", "<legit-2@dinkes.test>"} <= accepted(store)


def test_sigap_intake_karantina_lists_quarantined_mail_shown_not_obeyed(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from agent.cli import app
    from agent.cli.options import console

    monkeypatch.setattr(console, "width", 200)  # the shared console may exist already
    handler, store = make_handler(tmp_path, monkeypatch)
    url = str(store.engine.url)
    args = ["intake", "karantina", "-i", str(tmp_path / "inventory.yaml"), "--db", url]
    runner = CliRunner()
    empty = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert empty.exit_code == 0, empty.output
    assert "Tidak ada pesan yang dikarantina." in empty.output
    hostile = mail("<h1@x>", '"\x1b]0;judul\x07', "\x1b[2J layar-bersih")
    assert handler.mail_blocking(hostile, AT) == "rejected_malformed"
    store.close()
    shown = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Pesan dikarantina (1)" in shown.output
    assert "layar-bersih" in shown.output
    assert "rejected_malformed" in shown.output
    assert "\x1b" not in shown.output
    assert "\x07" not in shown.output


async def test_sigap_intake_keeps_its_mailbox_watcher_when_the_notifier_dies(caplog):
    from agent.intake.runner import run_intake
    from agent.intake.settings import IntakeSettings

    stop = asyncio.Event()
    runs: list[int] = []

    class DyingNotifier:
        async def run(self, _stop: asyncio.Event) -> None:
            runs.append(1)
            if len(runs) == 2:
                stop.set()  # restarted once: enough
            raise RuntimeError("outbox exploded")

    # nothing listens on port 1 of 127.0.0.1: the watcher keeps retrying, never ends
    settings = IntakeSettings(imap=ImapSettings("127.0.0.1", 1, "none", "pengaduan"))
    handler = SimpleNamespace(mail_blocking=lambda *_a: "created", quarantine_blocking=None)
    caplog.set_level("WARNING")
    async with asyncio.timeout(60):
        await run_intake(settings, handler, stop, notifier=DyingNotifier(), webhook=False)  # type: ignore[arg-type]
    assert len(runs) == 2
    assert "intake:notify failed" in caplog.text
    assert "cannot connect" in caplog.text  # the watcher ran on beside it
    assert "intake:imap failed" not in caplog.text


def test_a_mail_that_keeps_failing_while_others_pass_is_quarantined_not_retried_forever(intake):
    handler, store = intake
    stop = threading.Event()
    poison = legit(9)
    fake = FakeImap({1: poison, 2: legit(1), 3: legit(2)})

    def handle(raw, received, size=None):
        if raw == poison:  # e.g. a value this database version refuses with an OperationalError
            raise OperationalError("INSERT", {}, Exception("index row size exceeds maximum"))
        return handler.mail_blocking(raw, received, size)

    def give_up(raw, received, detail):
        stop.set()
        return handler.quarantine_blocking(raw, received, detail)

    settings = ImapSettings("127.0.0.1", 143, "none", "pengaduan")
    watcher = ImapWatcher(settings, handle, max_bytes=10**7, stop=stop, give_up=give_up)
    watcher.backoff_first = 0.01
    watcher.connect_blocking = lambda: fake  # type: ignore[method-assign]
    thread = threading.Thread(target=watcher.run_blocking, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert fake.flags[1] == {b"$SigapDone", b"$SigapRejected", b"\\Seen"}
    assert fake.flags[2] == fake.flags[3] == {b"$SigapDone", b"\\Seen"}  # not blocked by it
    ((mid, reason, detail),) = handler.ledger.rejections(Source.EMAIL)
    assert (mid, reason) == ("<legit-9@dinkes.test>", "rejected_malformed")
    assert detail.startswith("OperationalError 3 times")
    assert "<legit-9@dinkes.test>" not in accepted(store)


# -- HTML bodies -----------------------------------------------------------------------------


def test_html_body_becomes_lines_of_visible_text():
    doc = (
        "<html><head><title>T</title><style>p{}</style></head><body><p>Internet&nbsp;mati "
        "sejak <b>pagi</b></p><div>Lantai 2 &amp; 3</div><script>alert(1)</script><!-- x -->"
        "<ul><li>satu</li><li>dua</li></ul><p>a &lt;b&gt; c</p><p>tag <tidak ditutup"
    )
    assert html_to_text(doc) == (
        "Internet mati sejak pagi\n\nLantai 2 & 3\n\nsatu\n\ndua\n\na <b> c\n\ntag <tidak ditutup"
    )


@pytest.mark.parametrize(
    "markup", ["<a ", "</", "<a", "<!--", "<script>", "<>", "<", "<!", '<a b="'], ids=repr
)
def test_hostile_html_bodies_are_read_without_stalling_intake(intake, markup):
    """The stdlib HTML parser took 137 s for 120 KB of ``<a `` (a hang guard, not a timing)."""
    handler, _store = intake
    raw = message(
        [("From", "budi@dinkes.test"), ("Subject", "html"), ("Message-ID", f"<h{len(markup)}@x>"),
         ("MIME-Version", "1.0"), ("Content-Type", "text/html; charset=utf-8")],
        markup * 300_000 + " akhir",
    )  # fmt: skip
    results: list[str] = []
    worker = threading.Thread(
        target=lambda: results.append(handler.mail_blocking(raw, AT)), daemon=True
    )
    worker.start()
    worker.join(timeout=120)
    assert results == ["created"]
