"""The simulated OPD network: one network namespace per device, built from plain data."""
