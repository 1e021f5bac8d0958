"""The HTTP layer: thin routes, one file per domain."""
