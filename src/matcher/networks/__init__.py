"""School networks: host/partner triads, quads, pairs and cohorts (or peer groups) around a shared focus area."""
