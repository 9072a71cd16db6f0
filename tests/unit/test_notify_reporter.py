"""Reporter messages: planning per channel, the reply URL and its threading headers, the
WhatsApp window decision (sender's HTTP call replaced), the reporter templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from agent.config.model import NotifySettings, Person
from agent.intake.settings import ImapSettings, IntakeSettings, WhatsAppSettings
from agent.notify.reporter import ReporterRoutes, mail_headers, reply_url, reporter_key
from agent.notify.routing import InventoryRouter, Recipients
from agent.notify.templates import Renderer, load_templates
from agent.notify.whatsapp import ReplySender, WhatsAppSender
from agent.notify.worker import SendResult
from ticketing.outbox.types import Delivery, EventFacts, MessageContext

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
AT = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
BASE = "mailtos://user:s3cret@smtp.example.go.id?from=pengaduan@example.go.id&to=someone@x"
INTAKE = IntakeSettings(
    imap=ImapSettings("imap.example", 993, "tls", "u", reply_url=BASE, reply_domain="sigap.test"),
    whatsapp=WhatsAppSettings(
        "v",
        "s",
        "1234",
        access_token="tok",  # noqa: S106 - a fake
        api_base="http://127.0.0.1:9",
    ),
)
ACK = "<sigap.5f0c2a9e@sigap.test>"  # the ticket's stored acknowledgement id
KASI = Person("Baiq Kasi", "kasi", apprise=("json://h/kasi",))


def facts(kind: str, source: str, contact: str) -> EventFacts:
    return EventFacts(
        kind, AT, 7, "GJ/2026/0007", "", "Dinas Kesehatan", None, {},
        source=source, reporter="Budi", reporter_contact=contact,
    )  # fmt: skip


def query(url: str) -> list[tuple[str, str]]:
    pairs = (item.split("=", 1) for item in urlsplit(url).query.split("&"))
    return [(unquote(k), unquote(v)) for k, v in pairs]


def router(intake: IntakeSettings | None = INTAKE, **settings: object) -> InventoryRouter:
    return InventoryRouter(
        Recipients((KASI,)),
        NotifySettings(**settings),  # type: ignore[arg-type]
        WITA,
        reporters=ReporterRoutes(
            intake, first_message=lambda _n: "<c1@dinkes.test>", ack_id=lambda _n: ACK
        ),
    )


def delivery(plan, kind: str = "opened") -> Delivery:
    return Delivery(1, "sigap-1", kind, plan.recipient, plan.channel, plan.address_key, 1, "t",
                    "b", "GJ/2026/0007")  # fmt: skip


def test_email_and_wa_complaints_plan_one_reporter_row_at_once():
    r = router()
    plans = r.plan(facts("opened", "email", "budi@dinkes.test"))
    assert [(p.recipient, p.channel) for p in plans] == [
        ("Baiq Kasi", "json"),
        ("pelapor:budi@dinkes.test", "mailtos"),
    ]
    reporter = plans[1]
    assert reporter.due_at == AT  # no group window, no quiet hours for the reporter
    assert reporter.address_key == reporter_key("mailtos", "budi@dinkes.test")
    wa = r.plan(facts("resolved", "wa", "6281211112222"))[-1]
    assert (wa.recipient, wa.channel) == ("pelapor:6281211112222", "whatsapp")


def test_no_reporter_row_without_a_reply_channel_or_for_other_kinds():
    assert len(router().plan(facts("opened", "surat", "budi@dinkes.test"))) == 1  # Kasi only
    assert len(router().plan(facts("opened", "agent", ""))) == 1
    assert len(router().plan(facts("escalated", "email", "budi@dinkes.test"))) == 1
    no_reply = IntakeSettings(imap=ImapSettings("h", 993, "tls", "u"))  # no reply_url_env
    assert len(router(no_reply).plan(facts("opened", "email", "b@x"))) == 1
    assert len(router(None).plan(facts("opened", "wa", "62812"))) == 1
    silenced = router(routes={"opened": ("kasi",)})  # the office can switch the ack off
    assert len(silenced.plan(facts("opened", "email", "b@x"))) == 1


def test_reply_url_sends_to_the_reporter_only_with_threading_headers():
    r = router()
    plan = r.plan(facts("opened", "email", "budi@dinkes.test"))[-1]
    address = r.address_of(delivery(plan))
    assert address is not None
    assert address.is_email
    parts = urlsplit(address.url)
    assert (parts.scheme, parts.netloc) == ("mailtos", "user:s3cret@smtp.example.go.id")
    args = query(address.url)
    assert ("to", "budi@dinkes.test") in args
    assert ("to", "someone@x") not in args  # the base URL's own recipient is dropped
    assert ("+In-Reply-To", "<c1@dinkes.test>") in args
    assert ("+References", f"<c1@dinkes.test> {ACK}") in args
    assert ("+Auto-Submitted", "auto-replied") in args
    resolved = r.address_of(delivery(plan, "resolved"))
    assert resolved is not None
    assert ("+In-Reply-To", ACK) in query(resolved.url)


def test_acknowledgement_ids_without_a_store_are_random_and_never_name_the_ticket():
    r = InventoryRouter(
        Recipients((KASI,)), NotifySettings(), WITA, reporters=ReporterRoutes(INTAKE)
    )
    plan = r.plan(facts("opened", "email", "budi@dinkes.test"))[-1]
    refs = set()
    for _ in range(2):
        address = r.address_of(delivery(plan))
        assert address is not None
        refs.add(dict(query(address.url))["+References"])
    assert len(refs) == 2
    assert not any("2026" in ref or "0007" in ref for ref in refs)


HOSTILE_CONTACTS = [
    '"a@outside.example,b@outside.example"@dinkes.test',
    "a@outside.example,b@dinkes.test",
    "a@outside.example b@dinkes.test",
    "a@outside.example;b@dinkes.test",
    "o'neil@dinkes.test",  # Apprise reads o as a name and mails neil@...
    "budi@dinkes.test\r\nBcc: x@outside.example",
    "budi@dinkes.test\x00",
    "<budi@dinkes.test>",
    "Budi <budi@dinkes.test>",
    "budi@[127.0.0.1]",
    "budi@localhost",
    "budi@-dinkes.test",
    "x" * 65 + "@dinkes.test",
    "budi@" + "a" * 250 + ".test",
    "@dinkes.test",
    "budi@",
    "budi..x@dinkes.test",
    "",
]


@pytest.mark.parametrize("contact", HOSTILE_CONTACTS)
def test_a_contact_that_is_not_one_plain_mailbox_gets_no_mail(contact):
    r = router()
    assert [p.recipient for p in r.plan(facts("opened", "email", contact))] == ["Baiq Kasi"]
    key = reporter_key("mailtos", contact)  # a row planned before this rule is refused too
    forged = Delivery(1, "sigap-1", "opened", f"pelapor:{contact}", "mailtos", key, 1, "t", "b",
                      "GJ/2026/0007")  # fmt: skip
    assert r.address_of(forged) is None
    with pytest.raises(ValueError, match="not one plain mailbox"):
        reply_url(BASE, contact, {})


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    "contact", ["budi@dinkes.test", "a+tag@dinkes.test", "a/b=c?d#e%f&g{h}|i~j^k*l!m$n@x.go.id"]
)
def test_apprise_sends_a_plain_mailbox_to_exactly_that_one_recipient(contact):
    import apprise

    plugin = apprise.Apprise.instantiate(reply_url(BASE, contact, {}))
    assert plugin.targets == [(False, contact)]


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_apprise_reads_the_reply_url():
    import apprise

    url = reply_url(BASE, "budi@dinkes.test", mail_headers("opened", "<sigap.f00@d>", "<a@b>"))
    plugin = apprise.Apprise.instantiate(url)
    assert plugin.targets == [(False, "budi@dinkes.test")]
    assert plugin.headers == {
        "References": "<a@b> <sigap.f00@d>",
        "Auto-Submitted": "auto-replied",
        "In-Reply-To": "<a@b>",
    }


def test_wa_address_is_a_marker_without_secrets_and_unknown_keys_resolve_to_nothing():
    r = router()
    plan = r.plan(facts("opened", "wa", "6281211112222"))[-1]
    address = r.address_of(delivery(plan))
    assert address is not None
    assert address.url == "sigap-wa:6281211112222"
    assert not address.is_email
    stale = Delivery(1, "sigap-1", "opened", plan.recipient, "whatsapp", "0" * 16, 1, "", "", "x")
    assert r.address_of(stale) is None
    assert router(None).address_of(delivery(plan)) is None  # WhatsApp no longer configured


class Recorder(WhatsAppSender):
    def __init__(self, last: datetime | None, now: datetime, answers: list[SendResult]) -> None:
        super().__init__(INTAKE.whatsapp, last_inbound=lambda _n: last, now=lambda: now)  # type: ignore[arg-type]
        self.sent: list[dict] = []
        self.answers = answers

    def _post(self, payload):
        self.sent.append(payload)
        return self.answers.pop(0) if self.answers else SendResult(True)


def test_whatsapp_free_text_inside_the_window_template_outside():
    inside = Recorder(AT - timedelta(hours=23), AT, [])
    assert inside.send_blocking("sigap-wa:62812", "Pengaduan X diterima", "isi").ok
    assert inside.sent[0]["type"] == "text"
    assert inside.sent[0]["text"]["body"] == "Pengaduan X diterima\n\nisi"
    outside = Recorder(AT - timedelta(hours=25), AT, [])
    assert outside.send_blocking("sigap-wa:62812", "Pengaduan X\nselesai", "isi").ok
    (payload,) = outside.sent
    assert payload["type"] == "template"
    assert payload["template"]["name"] == "sigap_pengaduan"
    assert payload["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Pengaduan X selesai"}
    ]
    never = Recorder(None, AT, [])
    never.send_blocking("sigap-wa:62812", "t", "b")
    assert never.sent[0]["type"] == "template"


def test_whatsapp_window_closed_by_the_api_falls_back_to_the_template():
    closed = SendResult(False, "WhatsApp API 400: Re-engagement message (131047)", permanent=True)
    sender = Recorder(AT - timedelta(hours=1), AT, [closed])
    assert sender.send_blocking("sigap-wa:62812", "t", "b").ok
    assert [p["type"] for p in sender.sent] == ["text", "template"]


def test_whatsapp_errors_never_show_the_token():
    sender = WhatsAppSender(INTAKE.whatsapp, last_inbound=lambda _n: None, now=lambda: AT)  # type: ignore[arg-type]
    assert sender._clean("401: invalid tok, Bearer tok") == "401: invalid ***, Bearer ***"
    assert sender.endpoint == "http://127.0.0.1:9/1234/messages"


def test_reply_sender_dispatches_by_address():
    class Other:
        def __init__(self) -> None:
            self.urls: list[str] = []

        def send_blocking(self, url: str, title: str, body: str) -> SendResult:
            self.urls.append(url)
            return SendResult(True)

    other = Other()
    wa = Recorder(AT, AT, [])
    sender = ReplySender(other, wa)
    assert sender.send_blocking("json://h/kasi", "t", "b").ok
    assert sender.send_blocking("sigap-wa:62812", "t", "b").ok
    assert other.urls == ["json://h/kasi"]
    assert len(wa.sent) == 1
    assert not ReplySender(other, None).send_blocking("sigap-wa:1", "t", "b").ok


@pytest.mark.parametrize("email", [False, True])
def test_reporter_templates_name_the_ticket_and_the_sop_standards(email):
    renderer = Renderer(load_templates(), tz=WITA, office="Diskominfo", now=AT)
    ctx = MessageContext(
        ref="sigap-3", kind="opened", recipient="pelapor:budi@dinkes.test", channel="mailto",
        at=AT, number="GJ/2026/0007", opd="Dinas Kesehatan", summary="Internet mati",
        opened_at=AT, sop="gangguan-internet", reporter="Budi Dinkes",
    )  # fmt: skip
    text = renderer.render(ctx, email=email)
    flat = " ".join(text.body.split())
    assert "GJ/2026/0007" in text.title
    assert "diterima" in text.title
    assert "Yth. Budi Dinkes" in flat
    assert "paling lama 10 menit" in flat
    assert "paling lama 1 hari" in flat
    assert "Ref: sigap-3" in flat
    done = renderer.render(
        MessageContext(
            **{**_fields(ctx), "kind": "resolved", "resolved_at": AT + timedelta(hours=2)}
        ),
        email=email,
    )
    assert "selesai ditangani" in done.title
    assert "2 jam" in done.body
    staff = renderer.render(
        MessageContext(**{**_fields(ctx), "recipient": "Baiq Kasi"}), email=email
    )
    assert "Pengaduan" not in staff.title  # people of the office keep their own template


def _fields(ctx: MessageContext) -> dict:
    return {name: getattr(ctx, name) for name in ctx.__dataclass_fields__}
