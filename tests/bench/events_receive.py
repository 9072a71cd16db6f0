"""sigap's trap/syslog receivers alone in a process, for tests/bench/test_events_bench.py.

``python -m tests.bench.events_receive WORKDIR SYSLOG_PORT TRAP_PORT``: one device at
127.0.0.1, receivers on 127.0.0.1, the store a SQLite file in WORKDIR; prints ``ready``,
runs until stdin closes, then prints the stored count as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState
from agent.events.actions import EventActions
from agent.events.hub import EventHub
from agent.events.listeners import Listeners
from agent.runtime.metrics.events import EventMetrics
from agent.runtime.parts import Runtime
from ticketing.migrate import migrate
from ticketing.store import TicketStore

INVENTORY = """
office: {{name: Bench}}
defaults: {{platform: mikrotik_routeros, role: router}}
events:
  syslog_listen: [127.0.0.1:{syslog}]
  syslog_tcp: false
  trap_listen: [127.0.0.1:{trap}]
  rate: 100000
  burst: 100000
  queue: 100000
hosts:
  r1: {{address: 127.0.0.1, snmp: {{version: "2c", community_env: BENCH_COMMUNITY}}}}
"""


async def main(workdir: Path, syslog: int, trap: int) -> None:
    path = workdir / "inventory.yaml"
    path.write_text(INVENTORY.format(syslog=syslog, trap=trap), encoding="utf-8")
    inventory = load_inventory(path, env={"BENCH_COMMUNITY": "bench"})
    settings = inventory.events
    assert settings is not None
    store = TicketStore(TicketStore.sqlite_url(workdir / "bench.db"))
    migrate(store)
    runtime = Runtime(store, asyncio.Semaphore(10), lambda: {"r1": DeviceState.UP})
    metrics = EventMetrics()
    hub = EventHub(settings, inventory, metrics)
    actions = EventActions(hub, runtime, inventory, lambda _name: None)
    listeners = Listeners(hub)
    await listeners.start()
    consumer = asyncio.create_task(actions.run())
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await asyncio.sleep(2.0)  # the queue drains (it never waits on more than a batch's write)
    consumer.cancel()
    await listeners.close()
    runtime.thread.close()
    stored = metrics.value("sigap_events_stored_total")
    print(json.dumps({"stored": stored, "dropped": _dropped(metrics)}), flush=True)
    store.close()


def _dropped(metrics: EventMetrics) -> float:
    return sum(
        s.value
        for family in metrics.registry.collect()
        if family.name == "sigap_events_dropped"
        for s in family.samples
        if s.name.endswith("_total")
    )


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
