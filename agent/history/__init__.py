"""Network history (issue 19): availability per device, OPD and ISP link over any period."""
