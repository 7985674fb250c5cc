"""Entry point, settings and wiring: where the engine, the desk and the command line meet."""

__version__ = "0.2.0"
