"""Benchmarks of issue 8: `make bench` (`python -m bench.run`); see bench/README.md."""
