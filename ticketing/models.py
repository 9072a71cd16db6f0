"""SQLAlchemy ORM of ticketing's database: one mapped class per table, the whole schema.

One concept: the schema (tickets, their event log, attached devices, number counters, SOP
steps, Program Kegiatan, remediation runs, notifications, web accounts, intake messages,
ticket and network links) in one module, so that it reads as one data model and the
relationships resolve without imports between modules. The status enums are in
``ticketing.states`` (no SQLAlchemy) and re-exported here. These classes never leave
``ticketing/``: the store and the services turn them into frozen views.

The Alembic revisions in ``ticketing/migrations/versions`` are the source of truth for the
schema; ``tests/unit/test_store_schema.py`` checks that these models match them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ticketing.states import DeliveryStatus, EventKind, ProgramStatus, RunStatus, TicketState

__all__ = [  # the status enums live in ticketing.states (no SQLAlchemy); re-exported here
    "Base", "ChatDialogue", "DeliveryStatus", "DeviceLease", "DeviceMessage", "DeviceRole",
    "IntakeAttachment", "IntakeMessage", "NetworkLink", "Notification", "PingRollup",
    "ProgramKegiatan", "ProgramStatus", "RemediationRun",
    "RunStatus", "Ticket", "TicketCounter", "TicketDevice", "TicketEvent", "TicketLink",
    "TicketStep", "TrafficRollup", "UTCDateTime", "UnknownNeighbourRow", "WebAccount",
    "ZoneObservation", "ZonePoller",
]  # fmt: skip

NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The partial indexes below are the database's own guarantee of the dedup rules; the
# store checks the same rules first, and treats an IntegrityError as "another writer won".
ACTIVE_STATUS_SQL: Final = "status IN ('open', 'recovering')"
ATTACHED_AFFECTED_SQL: Final = "detached_at IS NULL AND role = 'affected'"
RUNNING_SQL: Final = "status = 'running'"


class DeviceRole(StrEnum):
    """How a device is linked to a ticket."""

    ROOT = "root"
    AFFECTED = "affected"


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamp stored as UTC and always returned tz-aware UTC; naive values are rejected."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive UTC on SQLite, which has no zone type)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (need tz-aware)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return tz-aware UTC whatever the backend handed back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _slug_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """Store a StrEnum as its lowercase slug in a VARCHAR with a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


JSON_DOC = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Ticket(Base):
    """One ticket: a fault (or, later, a manual complaint) and its lifecycle."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    fault_key: Mapped[str | None] = mapped_column(String(255))
    device: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    opd: Mapped[str] = mapped_column(String(200), server_default="")
    summary: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[TicketState] = mapped_column(_slug_enum(TicketState, "status"))
    source: Mapped[str] = mapped_column(String(16), server_default="agent")
    sop: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, server_default="0")
    version: Mapped[int] = mapped_column(Integer)
    # SOP workflow (migration 0002). Manual complaints have no fault key and no device.
    reporter: Mapped[str] = mapped_column(String(200), server_default="")
    description: Mapped[str] = mapped_column(Text, server_default="")
    # complaint intake (migration 0005): e-mail address or WhatsApp number of the reporter
    reporter_contact: Mapped[str] = mapped_column(String(200), server_default="")
    sop_step: Mapped[int | None] = mapped_column(Integer)  # active step; None: not started/done
    sop_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee: Mapped[str | None] = mapped_column(String(200))
    complexity: Mapped[str | None] = mapped_column(String(16))
    complexity_reason: Mapped[str] = mapped_column(Text, server_default="")
    # remediation (migration 0003): outcome of the last run (``RunStatus``), None: never run
    remediation: Mapped[str | None] = mapped_column(String(16))

    devices: Mapped[list[TicketDevice]] = relationship(
        back_populates="ticket", order_by="TicketDevice.id", lazy="selectin"
    )

    # SQLAlchemy reads this class attribute once at mapping time; it is never mutated.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index(
            "uq_tickets_active_fault_key",
            "fault_key",
            unique=True,
            sqlite_where=text(ACTIVE_STATUS_SQL),
            postgresql_where=text(ACTIVE_STATUS_SQL),
        ),
        Index("ix_tickets_status_opened_at", "status", "opened_at"),
    )


class TicketEvent(Base):
    """One entry of a ticket's append-only audit trail (database triggers forbid changes)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[EventKind] = mapped_column(_slug_enum(EventKind, "kind"))
    actor: Mapped[str] = mapped_column(String(64), server_default="sistem")
    detail: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)

    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)


class TicketDevice(Base):
    """A device linked to a ticket: its root device or a victim behind it, with history."""

    __tablename__ = "ticket_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    device: Mapped[str] = mapped_column(String(128))
    role: Mapped[DeviceRole] = mapped_column(_slug_enum(DeviceRole, "role"))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="devices", lazy="raise")

    __table_args__ = (
        Index("ix_ticket_devices_ticket_id", "ticket_id"),
        Index(
            "uq_ticket_devices_attached_device",
            "device",
            unique=True,
            sqlite_where=text(ATTACHED_AFFECTED_SQL),
            postgresql_where=text(ATTACHED_AFFECTED_SQL),
        ),
    )


class TicketCounter(Base):
    """Last ticket number handed out per prefix and (local) year."""

    __tablename__ = "ticket_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class TicketStep(Base):
    """One SOP step of a ticket: who, started, due, done, by whom, document, escalation."""

    __tablename__ = "ticket_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16))  # lowest performer role (escalation base)
    roles: Mapped[str] = mapped_column(String(80))  # every role that may act, comma-separated
    person: Mapped[str | None] = mapped_column(String(200))
    all_hours: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    completed_via: Mapped[str] = mapped_column(String(16), server_default="")  # 0015: whatsapp
    late_by_s: Mapped[int | None] = mapped_column(Integer)
    document_kind: Mapped[str | None] = mapped_column(String(32))
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)
    notes: Mapped[str] = mapped_column(Text, server_default="")
    escalation_level: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (UniqueConstraint("ticket_id", "position"),)


class ProgramKegiatan(Base):
    """One entry of the Program Kegiatan register (kompleks problems awaiting a budget)."""

    __tablename__ = "program_kegiatan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    opd: Mapped[str] = mapped_column(String(200), server_default="")
    device: Mapped[str] = mapped_column(String(128), server_default="")
    problem: Mapped[str] = mapped_column(Text, server_default="")
    proposed_action: Mapped[str] = mapped_column(Text, server_default="")
    estimated_cost: Mapped[int] = mapped_column(BigInteger, server_default="0")  # Rupiah
    priority: Mapped[str] = mapped_column(String(16))
    budget_year: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[ProgramStatus] = mapped_column(_slug_enum(ProgramStatus, "status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RemediationRun(Base):
    """One remediation attempt on a ticket, with its redacted, size-capped transcript.

    The partial unique index on ``device`` while ``running`` is the cross-process guarantee
    of "at most one session per device" (daemon and ``sigap remediasi jalankan`` alike).
    """

    __tablename__ = "remediation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    device: Mapped[str] = mapped_column(String(128))
    fault_key: Mapped[str] = mapped_column(String(255), server_default="")
    playbook: Mapped[str] = mapped_column(String(64))
    interface: Mapped[str] = mapped_column(String(64), server_default="")
    actor: Mapped[str] = mapped_column(String(200), server_default="sistem")
    status: Mapped[RunStatus] = mapped_column(_slug_enum(RunStatus, "status"))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON_DOC)

    __table_args__ = (
        Index("ix_remediation_runs_ticket_id", "ticket_id"),
        Index("ix_remediation_runs_device_started_at", "device", "started_at"),
        Index(
            "uq_remediation_runs_running_device",
            "device",
            unique=True,
            sqlite_where=text(RUNNING_SQL),
            postgresql_where=text(RUNNING_SQL),
        ),
    )


class Notification(Base):
    """One durable outbox row: a message to one Apprise address of one person (migration 0004).

    Written in the transaction of the ticket change that causes it (``ticketing.outbox``);
    ``title``/``body`` are frozen at the first delivery attempt so that a retry sends the
    same text, carrying the same ``dedup_key`` a receiver may use to drop a duplicate.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    # No foreign key: SQLite migrations rebuild ticket_events to add event kinds (see 0002).
    event_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # event kind slug, "reminder" or "test"
    recipient: Mapped[str] = mapped_column(String(200))  # person name
    channel: Mapped[str] = mapped_column(String(32))  # Apprise scheme: json, mailto, tgram...
    address_key: Mapped[str] = mapped_column(String(32))  # hash of the URL (never the URL)
    urgent: Mapped[bool] = mapped_column(Boolean)  # escalations: sent during quiet hours
    status: Mapped[DeliveryStatus] = mapped_column(_slug_enum(DeliveryStatus, "status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # not before; next retry after a failure
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(160))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, server_default="")
    results: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON_DOC)  # one per attempt
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)

    __table_args__ = (
        Index("ix_notifications_status_due_at", "status", "due_at"),
        Index("ix_notifications_ticket_id", "ticket_id"),
        Index("ix_notifications_address_key_id", "address_key", "id"),
    )


class WebAccount(Base):
    """A person's login to the web board (migration 0006): an argon2 hash, never the password.

    ``name`` is the person's name in the inventory's ``people`` (case as written there); the
    role comes from the inventory at every request, so a moved person needs no change here.
    """

    __tablename__ = "web_accounts"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # migration 0009: raised to end every session of the account; set while it may not log in
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IntakeMessage(Base):
    """One message taken in by e-mail or WhatsApp (migration 0005); the dedup ledger.

    Written in the same transaction as the ticket it creates or joins, so the unique
    (channel, message_id) pair is the proof that a message was handled: a crash before the
    commit leaves no row (the message is taken again), a crash after it leaves the row (the
    message is only marked processed at the source).
    """

    __tablename__ = "intake_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # ``Source`` slug: email / wa
    message_id: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    outcome: Mapped[str] = mapped_column(String(16))  # created / joined
    sender: Mapped[str] = mapped_column(String(200))  # address or phone number
    subject: Mapped[str] = mapped_column(Text, server_default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)  # headers, attachment list

    __table_args__ = (
        UniqueConstraint("channel", "message_id"),
        Index("ix_intake_messages_ticket_id", "ticket_id"),
        Index("ix_intake_messages_sender_received_at", "sender", "received_at"),
    )


class IntakeAttachment(Base):
    """An attachment of an intake message, kept up to the configured size (migration 0005)."""

    __tablename__ = "intake_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("intake_messages.id", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: over the cap, not kept


class IntakeRejection(Base):
    """A message quarantined by intake: why it made no ticket (migration 0008).

    ``digest`` (sha256 of the raw message, or of the channel's id) is the key, so a message
    taken again after a crash between this commit and flagging it at the source is one row.
    """

    __tablename__ = "intake_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(255), server_default="")
    sender: Mapped[str] = mapped_column(String(200), server_default="")
    subject: Mapped[str] = mapped_column(Text, server_default="")
    reason: Mapped[str] = mapped_column(String(32))  # ``Rejection`` slug, e.g. rejected_malformed
    detail: Mapped[str] = mapped_column(Text, server_default="")  # the error, for the operator
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("channel", "digest"),)


class MailThreadId(Base):
    """The random Message-ID of a ticket's acknowledgement mail (migration 0008).

    Replies name it in In-Reply-To/References; the ledger finds the ticket by it. Random, so
    that nobody can write a reply into a ticket by guessing its number.
    """

    __tablename__ = "mail_thread_ids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="RESTRICT"), unique=True
    )
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketLink(Base):
    """Two tickets about one problem (migration 0005).

    ``kind = "detected"``: the complaint ``ticket_id`` is about a fault the monitoring ticket
    ``linked_id`` already has ("sudah terdeteksi oleh sistem"). Both tickets also carry a
    ``note`` event naming the other one.
    """

    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    linked_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("ticket_id", "linked_id"),
        Index("ix_ticket_links_linked_id", "linked_id"),
    )


class NetworkLink(Base):
    """A cable between two inventory devices as the daemon's re-discovery remembers it (0007).

    The table mirrors the daemon's link memory: replaced at its first discovery, then every
    link seen keeps ``last_seen`` fresh; ``lost_at``/``fault_key`` mark a ``link_lost``
    (the key of its ticket, so a restarted daemon can clear it when the cable is back).
    """

    __tablename__ = "network_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a: Mapped[str] = mapped_column(String(64))
    a_port: Mapped[str] = mapped_column(String(128))
    b: Mapped[str] = mapped_column(String(64))
    b_port: Mapped[str] = mapped_column(String(128))
    protocols: Mapped[str] = mapped_column(String(64), server_default="")  # "cdp,lldp"
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fault_key: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (UniqueConstraint("a", "a_port", "b", "b_port"),)


class UnknownNeighbourRow(Base):
    """A neighbour an inventory device announced that the inventory does not know (0007)."""

    __tablename__ = "network_neighbours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seen_by: Mapped[str] = mapped_column(String(64))
    port: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    remote_port: Mapped[str] = mapped_column(String(128), server_default="")
    protocol: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(Text, server_default="")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("seen_by", "port", "name", "address"),)


class PingRollup(Base):
    """ICMP loss of one device over one 5-minute bucket: rounds and their loss ratios (0011)."""

    __tablename__ = "ping_rollups"

    device: Mapped[str] = mapped_column(String(128), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    rounds: Mapped[int] = mapped_column(Integer)  # probe rounds in the bucket
    loss_sum: Mapped[float] = mapped_column(Float)  # sum of the rounds' loss ratios
    loss_max: Mapped[float] = mapped_column(Float)  # worst round

    __table_args__ = (
        Index("ix_ping_rollups_start", "start", postgresql_using="brin"),
        {"sqlite_with_rowid": False},
    )


class TrafficRollup(Base):
    """Traffic of one port over one bucket (5 min or 1 h): averages, p95, peak, errors (0010)."""

    __tablename__ = "traffic_rollups"

    device: Mapped[str] = mapped_column(String(128), primary_key=True)
    interface: Mapped[str] = mapped_column(String(128), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)  # bucket length, seconds
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    covered_s: Mapped[float] = mapped_column(Float)  # seconds of the bucket with data
    in_avg: Mapped[float | None] = mapped_column(Float)  # bit/s, time-weighted
    out_avg: Mapped[float | None] = mapped_column(Float)
    in_p95: Mapped[float | None] = mapped_column(Float)
    out_p95: Mapped[float | None] = mapped_column(Float)
    util_max: Mapped[float | None] = mapped_column(Float)  # 0..1 of the bandwidth
    errors: Mapped[float | None] = mapped_column(Float)  # errors + discards in the bucket

    __table_args__ = (
        # retention deletes by age; rows arrive in time order, so PostgreSQL's BRIN is tiny
        Index("ix_traffic_rollups_step_start", "step", "start", postgresql_using="brin"),
        {"sqlite_with_rowid": False},  # clustered by the key: no second copy of it
    )


class DeviceMessage(Base):
    """A trap or syslog line a device sent, kept for ``events.retention`` (0012, issue 20)."""

    __tablename__ = "device_messages"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    device: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (the sender's clock is not)
    channel: Mapped[str] = mapped_column(String(8))  # "syslog" or "trap"
    source: Mapped[str] = mapped_column(String(64))  # sender address
    severity: Mapped[int | None] = mapped_column(Integer)  # syslog severity 0..7
    app: Mapped[str] = mapped_column(String(64), server_default="")  # tag / trap name
    text: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(48), server_default="")  # the rule that matched

    __table_args__ = (
        Index("ix_device_messages_device", "device", "at"),
        # retention deletes by age; rows arrive in time order, so PostgreSQL's BRIN is tiny
        Index("ix_device_messages_at", "at", postgresql_using="brin"),
    )


class ChatDialogue(Base):
    """A WhatsApp action waiting for the performer's typed answer (migration 0015).

    One row per phone: the signed action it continues (ticket, step, version, action), the
    question being asked (``stage``: isi, usulan, biaya), the answers so far and when it lapses.
    """

    __tablename__ = "chat_dialogues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    person: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    argument: Mapped[str] = mapped_column(String(200), server_default="")
    stage: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("phone"),)


class InventoryEdit(Base):
    """One change written to inventory.yaml from the board or the API (migration 0013).

    The audit row of ``agent.admin.edits``: who, when, what (a one-line summary and the
    unified diff) and the file's sha256 before and after (the versions editors base on).
    """

    __tablename__ = "inventory_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    by: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    diff: Mapped[str] = mapped_column(Text)
    version_before: Mapped[str] = mapped_column(String(64))
    version_after: Mapped[str] = mapped_column(String(64))
    reload: Mapped[str] = mapped_column(String(500), default="")  # what the reload request did


class ApiToken(Base):
    """A person's token for the JSON API (migration 0013): only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)  # the person (inventory people)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TicketSilence(Base):
    """Notifications of a ticket held by a person until ``until`` (migration 0013, issue 21).

    While a live row exists (``until`` in the future, not cancelled) the outbox does not
    deliver the ticket's messages; they wait and go out after ``until`` if still pending.
    """

    __tablename__ = "ticket_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeviceLease(Base):
    """Which zone poller polls a device (migration 0017, issue 23); see ``agent.zones.leases``.

    ``owner`` is the poller's node name, ``""`` when the device is free; ``expires_at`` is
    set from the database's clock. Only PostgreSQL uses the table (zone pollers refuse SQLite).
    """

    __tablename__ = "device_leases"

    cluster: Mapped[str] = mapped_column(String(48), primary_key=True)
    device: Mapped[str] = mapped_column(String(128), primary_key=True)
    zone: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(64), server_default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_device_leases_cluster_zone", "cluster", "zone"),)


class ZonePoller(Base):
    """A zone poller's heartbeat (issue 23, migration 0016): one row per node, upserted.

    ``zones`` is the comma-separated list it polls; ``inventory_sha`` the sha256 of its
    inventory file (the leader warns on a mismatch); ``buffered``/``dropped`` its replay buffer.
    """

    __tablename__ = "zone_pollers"

    node: Mapped[str] = mapped_column(String(48), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(48))
    zones: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    inventory_sha: Mapped[str] = mapped_column(String(64), server_default="")
    buffered: Mapped[int] = mapped_column(Integer, server_default="0")
    dropped: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ZoneObservation(Base):
    """One batch of a poller's probe results (migration 0016), consumed by the leader.

    ``payload`` is a list of ``[device, epoch seconds, status, rtt_ms or null, loss or null]``
    in probe order; the leader deletes the rows it reads (a row is handed over at most once).
    """

    __tablename__ = "zone_observations"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    node: Mapped[str] = mapped_column(String(48))
    cluster: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[Any] = mapped_column(JSON_DOC)

    __table_args__ = (Index("ix_zone_observations_cluster", "cluster", "id"),)
