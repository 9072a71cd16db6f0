"""Reports: the monthly recap (SQL), its records, and the Indonesian documents."""
