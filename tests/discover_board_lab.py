"""The board's discovery scan (``/admin/temukan``) driven in one process, real probes.

Run by tests/integration/test_discover_scan_lab.py inside the lab NOC namespace::

    python -m tests.discover_board_lab INVENTORY DB_URL RANGES NAME[,NAME...]

signs the Kasi in, scans ``RANGES`` through the page, ticks ``NAME``s and presses "Terima
yang dipilih"; prints one JSON line: the statuses and the names the page offered.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from agent.config.load import load_inventory
from agent.web.auth import AuthSettings
from agent.wiring import build_web_app, open_store
from tests.webboard import SECRET, TestClient, csrf_of, login

VERSION_RE = re.compile(r'name="versi_inventaris" value="([0-9a-f]{64})"')
KEY_RE = re.compile(r'name="usulan" value="([^"]+)"')
PERSON = "Baiq Kasi"


def main(path: str, url: str, ranges: str, names: str) -> dict[str, object]:
    """Scan and accept through the pages; what happened."""
    inventory = load_inventory(Path(path))
    app = build_web_app(
        inventory, open_store(inventory, url), secret_key=SECRET, auth=AuthSettings()
    )
    with TestClient(app, follow_redirects=False) as client:
        login(client, PERSON)
        token = csrf_of(client.get("/admin/temukan").text)
        page = client.post("/admin/temukan", data={"csrf": token, "rentang": ranges})
        offered = re.findall(r'name="pilih" value="([^"]+)"', page.text)
        if page.status_code != 200 or not offered:
            return {"scan": page.status_code, "offered": offered, "text": page.text[-2000:]}
        form = {
            "csrf": csrf_of(page.text),
            "versi_inventaris": VERSION_RE.search(page.text).group(1),  # type: ignore[union-attr]
            "usulan": KEY_RE.search(page.text).group(1),  # type: ignore[union-attr]
            "pilih": names.split(","),
        }
        reply = client.post("/admin/temukan/terima", data=form)
        return {"scan": 200, "offered": offered, "accept": reply.status_code}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
