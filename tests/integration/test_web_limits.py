"""Issue 17, finding 4: 200 MiB bodies against a real ``sigap web`` stay 413 and cost no memory.

``sigap web`` runs as its own process on 127.0.0.1 with the WhatsApp webhook mounted. A raw
socket streams up to 200 MiB (chunks generated on the fly, never built in memory) to a board
form and to the webhook, once with ``Content-Length`` and once chunked, watching for the
answer before every chunk. The server's memory is read from ``/proc/<pid>/status``: its peak
(``VmHWM``) after all four attacks may exceed its resident size before them by a generous
50 MiB at most (before the fix an unsigned 200 MiB webhook post took it to +350 MiB).
"""

from __future__ import annotations

import re
import select
import socket
import textwrap
from pathlib import Path
from typing import Final

import pytest

from tests.webboard import INVENTORY, served_board_process, set_passwords
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
        assert proc.poll() is None  # still serving
    for (path, chunked), (status_line, sent) in results.items():
        assert status_line == b"HTTP/1.1 413 Request Entity Too Large", (path, chunked)
        assert sent < TOTAL, (path, chunked)  # answered before the client was done
    print({k: (v[0], v[1] // 1024) for k, v in results.items()})
    growth = (peak - before) * 1024
    print(f"sigap web: RSS before {before} KiB, peak after {peak} KiB, growth {growth} bytes")
    assert growth < GROWTH_BOUND
