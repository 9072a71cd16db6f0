"""Zone pollers (issue 23): polling a kecamatan's devices from a node of its own."""
