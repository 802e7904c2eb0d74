"""Per-unit timing and value models of the cycle-level simulator."""
