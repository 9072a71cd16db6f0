"""Remediation: playbooks as data, guards, the netmiko seam, verification (DESIGN section 7).

- :mod:`agent.remediation.playbooks` loads and validates ``playbooks/*.yaml`` and renders a
  playbook for one device and interface (parameters validated, never interpolated raw);
  :mod:`agent.remediation.routeros` reads RouterOS ``print`` output as items with flags.
- :mod:`agent.remediation.transcript` records commands and output, redacted and size-capped.
- :mod:`agent.remediation.ssh` is the one blocking seam: netmiko in a worker thread, with
  every timeout set, host keys checked against a known_hosts file, and a hard session bound.
- :mod:`agent.remediation.runner` decides whether a run may happen (guards), runs it and
  records the result on the ticket; :mod:`agent.remediation.attempt` is one run (the bounded
  SSH session, then the SNMP verification), :mod:`agent.remediation.interfaces` reads a
  device's interfaces over SNMP.
"""
