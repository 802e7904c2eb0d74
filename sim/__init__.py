"""The cycle-level model of the accelerator."""
