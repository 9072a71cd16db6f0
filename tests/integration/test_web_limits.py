"""Issue 17, finding 4: 200 MiB bodies against a real ``sigap web`` stay 413 and cost no memory.

``sigap web`` runs as its own process on 127.0.0.1 with the WhatsApp webhook mounted. A raw
socket streams up to 200 MiB (chunks generated on the fly, never built in memory) to a board
form and to the webhook, once with ``Content-Length`` and once chunked, watching for the
answer before every chunk. The server's memory is read from ``/proc/<pid>/status``: its peak
(``VmHWM``) after all four attacks may exceed its resident size before them by a generous
50 MiB at most (before the fix an unsigned 200 MiB webhook post took it to +350 MiB).
"""

from __future__ import annotations

import asyncio
import re
import select
import socket
import textwrap
import threading
from pathlib import Path
from typing import Final

import pytest

from agent.config.load import load_inventory
from agent.wiring import build_intake_run, open_store
from collectors.model import utc_now
from tests.conftest import wait_for
from tests.webboard import INVENTORY, free_port, served_board_process, set_passwords
from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

MIB: Final = 1024 * 1024
TOTAL: Final = 200 * MIB
CHUNK: Final = 64 * 1024
GROWTH_BOUND: Final = 50 * MIB
INTAKE: Final = """
intake:
  whatsapp: {verify_token_env: T_WA_VERIFY, app_secret_env: T_WA_SECRET, phone_number_id: "99"}
"""


def memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of ``pid`` in KiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found, field
    return int(found.group(1))


def attack(port: int, path: str, *, chunked: bool) -> tuple[bytes, int]:
    """POST up to 200 MiB to ``path``; return the server's answer and the bytes sent.

    Before every chunk the socket is checked for an answer; sending stops at the first byte
    of it, when the server closes, or after 200 MiB (bounded loop: 3,200 chunks at most).
    """
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {TOTAL}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
    ).encode()
    block = b"a" * CHUNK
    piece = f"{CHUNK:x}\r\n".encode() + block + b"\r\n" if chunked else block
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        for _ in range(TOTAL // CHUNK):
            readable, _w, _x = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        sock.settimeout(30)
        try:
            while len(answer) < 64 * 1024:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def huge_head(port: int) -> bytes:
    """The answer to a request head that grows to 12 KiB and never ends (bound: 8 KiB)."""
    request = f"GET /masuk HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {'a' * 12 * 1024}"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request.encode())
            return sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return b""


def test_200_mib_bodies_are_cut_off_with_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("T_WA_VERIFY", "verify-me")
    monkeypatch.setenv("T_WA_SECRET", "whatsapp-app-secret-for-tests")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(textwrap.dedent(INVENTORY) + INTAKE, encoding="utf-8")
    url = TicketStore.sqlite_url(tmp_path / "web.db")
    set_passwords(url)
    with served_board_process(inventory, url, tmp_path) as (base, proc):
        port = int(base.rsplit(":", 1)[1])
        before = memory_kib(proc.pid, "VmRSS")
        results = {}
        for path in ("/masuk", "/intake/whatsapp"):
            for chunked in (False, True):
                answer, sent = attack(port, path, chunked=chunked)
                results[path, chunked] = (answer.split(b"\r\n", 1)[0], sent)
        peak = memory_kib(proc.pid, "VmHWM")
        head = huge_head(port)
        assert proc.poll() is None  # still serving
    assert head.startswith(b"HTTP/1.1 400"), head[:80]  # not kept waiting for the rest
    for (path, chunked), (status_line, sent) in results.items():
        assert status_line == b"HTTP/1.1 413 Request Entity Too Large", (path, chunked)
        assert sent < TOTAL, (path, chunked)  # answered before the client was done
    print({k: (v[0], v[1] // 1024) for k, v in results.items()})
    growth = (peak - before) * 1024
    print(f"sigap web: RSS before {before} KiB, peak after {peak} KiB, growth {growth} bytes")
    assert growth < GROWTH_BOUND


def test_sigap_intakes_own_webhook_server_cuts_bodies_off_too(tmp_path, monkeypatch):
    """``sigap intake`` serves the webhook itself (without the board): the same limits."""
    monkeypatch.setenv("T_WA_VERIFY", "verify-me")
    monkeypatch.setenv("T_WA_SECRET", "whatsapp-app-secret-for-tests")
    port = free_port()
    inventory_path = tmp_path / "inventory.yaml"
    intake = INTAKE.replace(
        'phone_number_id: "99"', f'phone_number_id: "99", listen: "127.0.0.1:{port}"'
    )
    inventory_path.write_text(textwrap.dedent(INVENTORY) + intake, encoding="utf-8")
    inventory = load_inventory(inventory_path)
    store = open_store(inventory, TicketStore.sqlite_url(tmp_path / "intake.db"), migrate=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    run = build_intake_run(inventory, store, utc_now, stop, notify=False)
    runner = threading.Thread(target=loop.run_until_complete, args=(run,), daemon=True)
    runner.start()
    try:
        wait_for("the webhook to listen", lambda: _listening(port), timeout=30)
        results = [attack(port, "/intake/whatsapp", chunked=c) for c in (False, True)]
    finally:
        loop.call_soon_threadsafe(stop.set)
        runner.join(timeout=30)
        store.close()
    assert not runner.is_alive()
    loop.close()
    for answer, sent in results:
        assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 413 Request Entity Too Large"
        assert sent < TOTAL  # cut off while reading, not after 200 MiB


def _listening(port: int) -> bool | None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return None
    return True
