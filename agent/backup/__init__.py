"""Configuration backup and change tracking (issue 22).

- :mod:`agent.backup.platforms`: the one export command per platform (read-only, exact text,
  never RouterOS ``show-sensitive``) and the normalisation of volatile lines;
- :mod:`agent.backup.redact`: the configuration redaction rule set (run before every commit);
- :mod:`agent.backup.repo`: the git repository under the state directory (git CLI, blocking);
- :mod:`agent.backup.fetch`: one read-only session over remediation's netmiko seam (blocking);
- :mod:`agent.backup.service`: the async side: per-device guard shared with remediation,
  bounded concurrency, the nightly spread, failure state per device.
"""
