"""fdaccel: frequency-domain CNN training accelerators, from YAML to cycles, energy and RTL."""
