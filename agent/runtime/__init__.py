"""The daemon at run time: poll loops, the ticket writer, metrics, /metrics, systemd."""
