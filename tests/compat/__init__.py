"""Tests of third-party compatibility shims used by the test suite."""
