"""The Redis mirror for external listeners and the names it writes under."""
