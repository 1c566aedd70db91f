"""The rule engine: pure functions of (page text, watchlist) -> findings.

Nothing in this package does I/O beyond reading its own rule files, so it is
fast to test and safe to run in a worker process.
"""
