"""Zone pollers (issue 23): ``sigap run --zona NAME`` polls one zone and ships to the centre.

A poller polls its zone's devices, runs the detector locally only for its confirmation
re-polls, and ships every probe round to PostgreSQL (:mod:`agent.zones.ship`), with a heartbeat
row. The leader of the centre reads those rows into its own detector (:mod:`agent.zones.ingest`)
and watches the heartbeats (:mod:`agent.zones.liveness`): a zone without a live poller is
*tak terpantau* and gets one ``poller_down`` ticket.
"""

from typing import Final

DEFAULT_BUFFER: Final = 100_000  # results a poller keeps while the database is away
