"""Notification text from outside is shown, not rendered, by chat services (issue 17, finding 7).

Apprise passes a text body unchanged to services that render Markdown themselves (Discord,
Mattermost, Rocket.Chat...) and to Slack's own markup: a complaint's subject could post a link,
ping ``@everyone`` or ``<!channel>``. The sender escapes the body per service; a real Apprise
posts to a Mattermost webhook on 127.0.0.1 and the received text is checked.
"""

from __future__ import annotations

import http.server
import json
import re
import threading

import pytest

from agent.notify.apprise_sender import MARKDOWN_SCHEMES, AppriseSender, as_plain

pytestmark = pytest.mark.unit

HOSTILE = "[klik](http://evil.example/?x=1) ![img](http://evil.example/p.png) @everyone **x** `c`"
SLACK_HOSTILE = "<http://evil.example|klik> <!channel> <@U123> a&b"


def _unescaped_markdown(text: str) -> list[str]:
    """Markdown link, image, mention and emphasis openers not preceded by a backslash."""
    return re.findall(r"(?<!\\)(?:\[|!\[|@|\*\*|`)", text)


@pytest.mark.parametrize("scheme", sorted(MARKDOWN_SCHEMES))
def test_markdown_services_get_every_opener_escaped(scheme: str) -> None:
    sent = as_plain(scheme, HOSTILE)
    assert _unescaped_markdown(sent) == []
    assert re.sub(r"\\(.)", r"\1", sent) == HOSTILE  # unescaped, it is the text as written


def test_slack_gets_no_link_or_mention_markup() -> None:
    sent = as_plain("slack", SLACK_HOSTILE)
    assert "<" not in sent
    assert ">" not in sent
    assert sent == "&lt;http://evil.example|klik&gt; &lt;!channel&gt; &lt;@U123&gt; a&amp;b"


def test_other_services_get_the_text_as_is() -> None:
    for scheme in ("mailto", "json", "tgram", "ntfy"):
        assert as_plain(scheme, HOSTILE) == HOSTILE  # Apprise escapes HTML targets itself


class Webhook(http.server.BaseHTTPRequestHandler):
    """A Mattermost incoming webhook on 127.0.0.1 that keeps what it received."""

    received: list[dict[str, object]] = []  # noqa: RUF012 - one test's log

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Webhook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


def test_real_apprise_posts_escaped_text_to_mattermost() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"mmost://127.0.0.1:{server.server_port}/tokenabc"
        result = AppriseSender().send_blocking(url, "Tiket GJ/2026/0001", HOSTILE)
    finally:
        server.shutdown()
        server.server_close()
    assert result.ok, result.error
    [payload] = Webhook.received
    text = str(payload["text"])
    assert "klik" in text
    assert _unescaped_markdown(text) == []
