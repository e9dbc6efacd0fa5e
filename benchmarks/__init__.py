"""Benchmarks of kartra_async against raw aiohttp, run with ``python -m benchmarks``."""
