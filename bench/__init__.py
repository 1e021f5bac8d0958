"""Benchmarks: a seeder, two baselines (the limit and a naive peer) and the runner."""
