"""dexdesk's order engine: everything that runs without a window.

Nothing in this package imports Qt (an import-linter contract checks it), so the same
pipeline serves the desk, the command line and the benchmarks.
"""
