"""Amaranth RTL of the accelerator units."""
