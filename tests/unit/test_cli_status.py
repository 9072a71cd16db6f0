"""``sigap status`` without a database server: where it may ask, and what a daemon answers.

The command asks the local daemon's ``/healthz`` only on loopback (a listen address off the
machine is never contacted), and an answer that is not a health report (garbage, a list,
HTML, a huge body, a slow server) becomes a clear line, never a traceback.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import TYPE_CHECKING, Any

import pytest

from agent.cli.status import blind, daemon_view, local_host
from agent.config.load import load_inventory

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("host", "asked"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.5.6.7", "127.5.6.7"),
        ("0.0.0.0", "127.0.0.1"),  # noqa: S104 - a listen address under test
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("localhost", "127.0.0.1"),
        ("10.67.255.254", None),  # a lab NOC address: never from here
        ("192.168.1.1", None),
        ("::ffff:10.0.0.1", None),
        ("fe80::1", None),
        ("noc.example", None),  # names are not resolved
        ("127.0.0.1\x00evil", None),
        ("", None),
    ],
)
def test_only_loopback_is_asked(host: str, asked: str | None) -> None:
    assert local_host(host) == asked


class _Handler(http.server.BaseHTTPRequestHandler):
    body: bytes = b""
    code: int = 200

    def do_GET(self) -> None:
        self.send_response(self.code)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[http.server.HTTPServer, type[_Handler]]]:
    handler = type("H", (_Handler,), {})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd, handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def inventory_on(tmp_path: Path, listen: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "office: {name: Uji}\n"
        f"daemon: {{metrics_listen: '{listen}'}}\n"
        "hosts:\n  r1: {address: 127.0.0.2, role: router, platform: mikrotik_routeros}\n"
    )
    return path


def view_of(tmp_path: Path, httpd: http.server.HTTPServer) -> dict[str, Any]:
    listen = f"127.0.0.1:{httpd.server_address[1]}"
    return daemon_view(load_inventory(inventory_on(tmp_path, listen)))


def test_a_healthy_report_is_read(
    tmp_path: Path, server: tuple[http.server.HTTPServer, type[_Handler]]
) -> None:
    httpd, handler = server
    handler.body = json.dumps({"status": "ok", "ha": {"role": "leader", "node": "a"}}).encode()
    seen = view_of(tmp_path, httpd)
    assert seen["answered"] is True
    assert seen["report"]["ha"]["role"] == "leader"
    assert not blind({"ha": False}, seen)


def test_an_unhealthy_daemon_still_reports(
    tmp_path: Path, server: tuple[http.server.HTTPServer, type[_Handler]]
) -> None:
    httpd, handler = server
    handler.code, handler.body = 503, json.dumps({"status": "fail"}).encode()
    seen = daemon_view(
        load_inventory(inventory_on(tmp_path, f"127.0.0.1:{httpd.server_address[1]}"))
    )
    assert seen["answered"] is True
    assert seen["report"] == {"status": "fail"}


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (200, b"not json"),
        (200, b"[1, 2, 3]"),
        (200, b"\x00\xff\x1b[31m"),
        (200, b"<html>" + b"x" * 200_000),
        (500, b"<html>error</html>"),
        (200, b"{" * 100_000),
        (200, b""),
    ],
)
def test_a_strange_answer_is_a_clear_line(
    tmp_path: Path,
    server: tuple[http.server.HTTPServer, type[_Handler]],
    code: int,
    body: bytes,
) -> None:
    httpd, handler = server
    handler.code, handler.body = code, body
    seen = daemon_view(
        load_inventory(inventory_on(tmp_path, f"127.0.0.1:{httpd.server_address[1]}"))
    )
    assert seen["answered"] is False
    assert seen["why"]
    assert blind({"ha": False}, seen)


def test_a_listen_address_off_the_machine_is_not_asked(tmp_path: Path) -> None:
    seen = daemon_view(load_inventory(inventory_on(tmp_path, "10.67.255.254:9464")))
    assert seen == {"asked": False, "why": "10.67.255.254:9464 bukan alamat lokal"}


def test_blind_means_nobody_leads_or_nobody_answers() -> None:
    assert blind({"ha": True, "leader": None}, {"answered": True})
    assert not blind({"ha": True, "leader": "a"}, {"answered": False})  # another node leads
    assert blind({"ha": False}, {"answered": False})
