"""``sigap discover --scan``: find devices in address ranges and propose inventory entries.

The service the CLI (and later the admin board) calls: :mod:`.targets` checks the ranges,
:mod:`.probe` sweeps and asks SNMP (I/O), :mod:`.propose` turns the answers into host
entries with markers (pure), :mod:`.yamlout` writes them into the inventory text (ruamel
round trip), :mod:`.service` ties these together.
"""
