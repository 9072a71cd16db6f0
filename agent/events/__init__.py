"""Device events (issue 20): SNMP traps and syslog heard by the daemon.

``syslog`` parses and frames what devices send, ``traps`` names what a trap means (decoding
is :mod:`collectors._snmp.trap`), ``hub`` admits, limits and queues, ``listeners`` are the
sockets, ``actions`` re-polls, opens ``login_failures``/``config_changed`` tickets, notes and
stores (``ticketing.device_log``), ``settings`` is the ``events:`` block and the rule files
(``rules/*.yaml``), ``service`` runs it all as one daemon part (built by ``agent.wiring``).
"""
