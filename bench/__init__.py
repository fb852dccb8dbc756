"""Benchmarks: each prints its own figures. `make bench` runs them all."""
