"""The one blocking seam of remediation: a netmiko session in a worker thread.

Everything here runs on a worker thread; :meth:`Session.abort` is the only method called
from elsewhere (the event loop, when the hard session bound expires): it closes the socket,
so a device that hangs mid-session costs at most one read timeout of the worker thread and
nothing of the event loop. Every netmiko call has its timeouts set (connect, auth, banner,
per read). Host keys are checked against the configured known_hosts file:

- ``strict``: the host must be listed; anything else is refused.
- ``accept-new``: a host with no entry is trusted on first use and written to the file
  (paramiko's AutoAddPolicy saves to the file netmiko loaded); a host that has an entry is
  checked strictly, so a changed key (of any type) is always refused, never replaced.

Device quirks handled here, not by patching netmiko: RouterOS's prompt is matched with an
explicit pattern (netmiko's detection may see it twice, see netmiko issues #3285/#3405); IOS
enters enable mode before anything else; linux runs plain commands (no config mode).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import paramiko
from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Device, RemediationSettings, SshSettings
    from agent.remediation.playbooks import Check, Plan
    from agent.remediation.transcript import Transcript

PROMPTS: Final[dict[str, str]] = {
    "mikrotik_routeros": r"\[[^\]\r\n@]+@[^\]\r\n]+\] >",
    "linux": r"[#$]\s*$",
}
ERRORS: Final[dict[str, re.Pattern[str]]] = {
    "mikrotik_routeros": re.compile(
        r"(?m)^(no such item|syntax error|bad command name|failure:|expected |input does not)"
    ),
    "cisco_ios": re.compile(r"(?m)^% (Invalid|Incomplete|Ambiguous|Access denied)"),
    "linux": re.compile(
        r"(?m)(^Cannot find device|^RTNETLINK answers|^Error:|restricted|command not found)"
    ),
}
VERIFY_TRIES: Final = 5
VERIFY_PAUSE_S: Final = 1.0


class SshFailure(Exception):  # noqa: N818 - a failure outcome, not a bug
    """A session could not do its work; ``kind`` for metrics, ``reason`` in Indonesian."""

    def __init__(self, kind: str, reason: str) -> None:
        """Keep both."""
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SshTarget:
    """Where and as whom to log in (secrets never printed)."""

    device: str
    platform: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    secret: str = field(default="", repr=False)

    @classmethod
    def of(cls, device: Device, ssh: SshSettings) -> SshTarget:
        """``device`` reached with its SSH settings (``ssh``: ``device.ssh``, checked set)."""
        return cls(
            device.name, device.platform, device.address, ssh.port, ssh.user, ssh.password,
            ssh.secret,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SshOptions:
    """Host-key policy and timeouts (seconds)."""

    known_hosts: Path
    host_key_policy: str = "strict"
    connect_timeout: float = 5.0
    auth_timeout: float = 5.0
    banner_timeout: float = 5.0
    read_timeout: float = 10.0

    @classmethod
    def of(cls, settings: RemediationSettings) -> SshOptions:
        """The options of the inventory's ``remediation:`` block (diagnose uses them too)."""
        return cls(
            settings.known_hosts,
            settings.host_key_policy,
            settings.connect_timeout,
            settings.auth_timeout,
            settings.banner_timeout,
            settings.read_timeout,
        )


@dataclass(frozen=True, slots=True)
class SessionResult:
    """What the device showed: pre-check and verification matched or not; commands sent."""

    precheck_ok: bool
    sent: bool
    verified: bool
    rolled_back: bool = False


def known_host_name(host: str, port: int) -> str:
    """Return the known_hosts name of ``host:port`` (``[host]:port`` unless port 22)."""
    return host if port == 22 else f"[{host}]:{port}"  # noqa: PLR2004 - the SSH port


def is_known(options: SshOptions, host: str, port: int) -> bool:
    """Return True when the known_hosts file has any key for ``host:port``."""
    if not options.known_hosts.is_file():
        return False
    try:
        keys = paramiko.HostKeys(str(options.known_hosts))
    except (OSError, paramiko.SSHException):
        return False
    return keys.lookup(known_host_name(host, port)) is not None


class Session:
    """One netmiko session; every method but :meth:`abort` runs on one worker thread."""

    def __init__(self, target: SshTarget, options: SshOptions, transcript: Transcript) -> None:
        """Nothing is opened until :meth:`open`."""
        self.target = target
        self.options = options
        self.transcript = transcript
        self._conn: Any = None
        self._aborted = threading.Event()

    def open(self) -> None:
        """Connect, check the host key, log in (IOS: and enter enable mode)."""
        t, o = self.target, self.options
        strict = o.host_key_policy == "strict" or is_known(o, t.host, t.port)
        if not strict:  # accept-new: netmiko loads (and paramiko saves to) an existing file
            o.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            o.known_hosts.touch(mode=0o600, exist_ok=True)
        self._check_aborted()
        self._conn = ConnectHandler(
            device_type=t.platform,
            host=t.host,
            port=t.port,
            username=t.user,
            password=t.password,
            secret=t.secret or t.password,
            conn_timeout=o.connect_timeout,
            auth_timeout=o.auth_timeout,
            banner_timeout=o.banner_timeout,
            read_timeout_override=o.read_timeout,
            timeout=o.read_timeout,
            ssh_strict=strict,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=str(o.known_hosts),
            allow_agent=False,
            use_keys=False,
            auto_connect=False,
        )
        started = time.monotonic()
        with self._mapped("membuka sesi"):
            self._conn._open()
            if t.platform == "cisco_ios":
                self._conn.enable()
        self.transcript.note(
            f"sesi SSH ke {t.user}@{t.host}:{t.port} ({t.platform}) terbuka "
            f"dalam {time.monotonic() - started:.2f} s; kunci host diperiksa ({o.host_key_policy})"
        )

    def show(self, command: str, step: str) -> str:
        """Run a read-only command and record it."""
        return self._send(command, step)

    def run(self, commands: tuple[str, ...], step: str) -> None:
        """Run exec-mode commands one by one; stop at the first that reports an error."""
        for command in commands:
            output = self._send(command, step)
            error = ERRORS.get(self.target.platform)
            if error is not None and error.search(output):
                raise SshFailure("command", f"perintah {command!r} ditolak perangkat")

    def configure(self, lines: tuple[str, ...], step: str) -> None:
        """Send config-mode lines (enter and leave config mode around them)."""
        self._check_aborted()
        started = time.monotonic()
        output = ""
        try:
            with self._mapped("mode konfigurasi"):
                output = self._conn.send_config_set(
                    list(lines), error_pattern=r"% (Invalid|Incomplete|Ambiguous)"
                )
        except ConfigInvalidException as exc:
            output = str(exc)
            raise SshFailure("command", "konfigurasi ditolak perangkat") from exc
        finally:
            self.transcript.add(step, "\n".join(lines), output, time.monotonic() - started)

    def abort(self) -> None:
        """Close the socket from another thread (the hard session bound expired)."""
        self._aborted.set()
        conn = self._conn
        client = getattr(conn, "remote_conn_pre", None) if conn is not None else None
        if client is not None:
            client.close()

    def close(self) -> None:
        """Leave politely (bounded by the read timeout); never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._aborted.is_set():
                conn.disconnect()
            else:
                conn.paramiko_cleanup()
        except Exception:  # noqa: BLE001 - closing a broken session must not mask its failure
            return

    def _send(self, command: str, step: str) -> str:
        self._check_aborted()
        started = time.monotonic()
        output = ""
        try:
            with self._mapped(f"perintah {command!r}"):
                kwargs: dict[str, Any] = {"read_timeout": self.options.read_timeout}
                prompt = PROMPTS.get(self.target.platform)
                if prompt is not None:
                    kwargs["expect_string"] = prompt
                output = str(self._conn.send_command(command, **kwargs))
        finally:
            self.transcript.add(step, command, output, time.monotonic() - started)
        return output

    def _check_aborted(self) -> None:
        if self._aborted.is_set():
            raise SshFailure("timeout", "sesi dihentikan: batas waktu sesi terlampaui")

    def _mapped(self, what: str) -> _Mapped:
        return _Mapped(self, what)


class _Mapped:
    """Turn netmiko/paramiko exceptions into SshFailure with an Indonesian reason."""

    def __init__(self, session: Session, what: str) -> None:
        self.session = session
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None or isinstance(exc, SshFailure):
            return
        failure = _map(exc, self.session, self.what)
        if failure is not None:
            raise failure from exc


def _map(exc: BaseException, session: Session, what: str) -> SshFailure | None:  # noqa: PLR0911
    target, known = session.target, session.options.known_hosts
    if session._aborted.is_set():
        return SshFailure("timeout", f"sesi dihentikan saat {what}: batas waktu sesi terlampaui")
    text = str(exc)  # netmiko wraps paramiko's host-key errors in NetmikoTimeoutException
    if isinstance(exc, paramiko.BadHostKeyException) or "does not match" in text:
        return SshFailure(
            "host_key",
            f"kunci host SSH {target.host} BERUBAH (tidak cocok dengan {known}); ditolak",
        )
    if "not found in known_hosts" in text:
        return SshFailure("host_key", f"kunci host SSH {target.host} tidak ada di {known}; ditolak")
    if isinstance(exc, NetmikoAuthenticationException):
        return SshFailure("auth", f"login SSH sebagai {target.user!r} ditolak (sandi salah?)")
    if isinstance(exc, NetmikoTimeoutException):
        return SshFailure("connect", f"tidak dapat terhubung ke {target.host}:{target.port}")
    if isinstance(exc, ReadTimeout):
        return SshFailure("timeout", f"perangkat tidak menjawab saat {what}")
    if isinstance(exc, ValueError) and "enable" in str(exc).lower():
        return SshFailure("auth", "gagal masuk mode enable (enable secret salah?)")
    if isinstance(exc, (ReadException, paramiko.SSHException, OSError, EOFError)):
        return SshFailure("protocol", f"sesi SSH terputus saat {what}")
    return None


def verify_show(session: Session, check: Check, step: str = "verify") -> bool:
    """Run the verify command until its output matches (a few tries, one second apart)."""
    for attempt in range(VERIFY_TRIES):
        if check.matches(session.show(check.command, step)):
            return True
        if attempt + 1 < VERIFY_TRIES:
            time.sleep(VERIFY_PAUSE_S)
    return False


def execute(session: Session, plan: Plan) -> SessionResult:
    """Run ``plan`` on an open-able session (blocking; the worker thread's whole job)."""
    try:
        session.open()
        if plan.precheck is not None:
            output = session.show(plan.precheck.command, "precheck")
            if not plan.precheck.matches(output):
                session.transcript.note(
                    "prasyarat tidak terpenuhi (keadaan perangkat sudah lain); "
                    "tidak ada perintah perubahan dikirim"
                )
                verified = plan.verify.matches(session.show(plan.verify.command, "verify"))
                return SessionResult(precheck_ok=False, sent=False, verified=verified)
        if plan.commands:
            session.run(plan.commands, "command")
        if plan.config:
            session.configure(plan.config, "config")
        if verify_show(session, plan.verify):
            return SessionResult(precheck_ok=True, sent=True, verified=True)
        rolled_back = False
        if plan.rollback_on_failure and (plan.rollback or plan.rollback_config):
            session.transcript.note("verifikasi gagal: rollback dijalankan")
            if plan.rollback:
                session.run(plan.rollback, "rollback")
            if plan.rollback_config:
                session.configure(plan.rollback_config, "rollback")
            rolled_back = True
        return SessionResult(precheck_ok=True, sent=True, verified=False, rolled_back=rolled_back)
    finally:
        session.close()
