"""Benchmarks: programs that measure and print figures (never timed asserts in tests)."""
