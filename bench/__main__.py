"""`python -m bench`: see bench/run.py and bench/README.md."""

from bench.run import entry

raise SystemExit(entry())
