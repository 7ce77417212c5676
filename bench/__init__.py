"""Benchmarks of Purchasing Live: `make bench` (full) and `make bench-quick`; see README.md."""
