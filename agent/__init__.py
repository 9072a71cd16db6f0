"""Composition root: CLI, configuration, daemon, detection; wires collectors and ticketing."""
