"""Benchmarks of BuyerBot (issue 2, point 8): run by hand or in CI, never as
timed tests. `python -m bench.run_all` runs them all and prints Markdown."""
