"""One remediation attempt on the device: the SSH session under its hard bound, then SNMP.

:func:`run_session` runs the plan on a worker thread of the remediator's pool; past
``session_timeout`` the socket is closed under the thread. :func:`verify_snmp` then polls
the interface until SNMP shows the repair or ``verify_timeout`` passes: a repair counts only
when the device's read-only command shows it AND SNMP confirms it. Both return
``(status, reason)``; the remediator records it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agent.remediation.ssh import Session, SessionResult, SshFailure, SshOptions, SshTarget, execute
from ticketing.models import RunStatus

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from agent.config.model import Device, RemediationSettings
    from agent.remediation.interfaces import InterfaceReader
    from agent.remediation.playbooks import Plan
    from agent.remediation.transcript import Transcript


async def run_session(
    pool: Executor,
    device: Device,
    plan: Plan,
    transcript: Transcript,
    *,
    settings: RemediationSettings,
) -> tuple[RunStatus, str]:
    """Run ``plan`` over SSH on ``pool``; SUCCEEDED only when the device shows the repair."""
    ssh = device.ssh
    assert ssh is not None  # noqa: S101 - the guards checked
    session = Session(SshTarget.of(device, ssh), SshOptions.of(settings), transcript)
    future = asyncio.get_running_loop().run_in_executor(pool, execute, session, plan)
    try:
        result: SessionResult = await asyncio.wait_for(
            asyncio.shield(future), settings.session_timeout
        )
    except TimeoutError:
        session.abort()
        transcript.note(f"batas waktu sesi {settings.session_timeout:.0f} s terlampaui")
        return (
            RunStatus.FAILED,
            f"perangkat tidak menjawab dalam {settings.session_timeout:.0f} s",
        )
    except SshFailure as exc:
        return RunStatus.FAILED, exc.reason
    except asyncio.CancelledError:
        session.abort()
        raise
    return _judged(result)


def _judged(result: SessionResult) -> tuple[RunStatus, str]:
    """What the device showed, as a run status and its reason."""
    if not result.verified:
        why = "perintah terkirim tetapi perangkat belum menunjukkan perbaikan"
        if not result.precheck_ok:
            why = "keadaan perangkat tidak sesuai prasyarat dan belum pulih"
        if result.rolled_back:
            why += "; rollback dijalankan"
        return RunStatus.FAILED, why
    if not result.sent:
        return RunStatus.SUCCEEDED, "sudah pulih sebelum perintah dikirim"
    return RunStatus.SUCCEEDED, ""


async def verify_snmp(
    reader: InterfaceReader,
    device: Device,
    plan: Plan,
    transcript: Transcript,
    reason: str,
    *,
    settings: RemediationSettings,
) -> tuple[RunStatus, str]:
    """Poll until SNMP shows the interface up (keeping ``reason``) or ``verify_timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.verify_timeout
    want = "ifAdminStatus" if plan.probe == "admin_up" else "ifOperStatus"
    seen = "tidak terbaca"
    while True:
        rows = await reader.interfaces(device)
        row = rows.get(plan.interface) if rows else None
        if row is not None:
            ok = row.admin_up if plan.probe == "admin_up" else row.oper_up
            seen = "up" if ok else "down"
            if ok:
                transcript.note(f"verifikasi SNMP: {want} {plan.interface} = up")
                return RunStatus.SUCCEEDED, reason
        if loop.time() >= deadline:
            transcript.note(f"verifikasi SNMP: {want} {plan.interface} = {seen}")
            return RunStatus.FAILED, (
                f"verifikasi SNMP gagal: {want} {plan.interface} {seen} "
                f"setelah {settings.verify_timeout:.0f} s"
            )
        await asyncio.sleep(settings.verify_interval)
