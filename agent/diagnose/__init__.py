"""``sigap diagnose``: one-shot diagnosis of a device, an OPD or an address (issue 9).

Works without the daemon and never writes tickets. :mod:`.runner` probes (ping, the path up
the inventory, MTU, SNMP twice for rates, read-only SSH, recent tickets) concurrently;
:mod:`.verdict` turns what was seen into findings, a health word and an Indonesian verdict;
:mod:`.report` holds the results and their JSON form (checked by :mod:`.schema`).
"""
