"""The SNMP fast path: BER codec, USM (v3), transport, engine and table walks."""
