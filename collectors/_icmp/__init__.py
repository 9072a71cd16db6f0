"""The ICMP fast path: the echo codec and the one shared raw/datagram socket."""
