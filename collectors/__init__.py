"""Probes that turn a device into Observations; no I/O beyond probing, no tickets, no agent."""
