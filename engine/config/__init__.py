"""Settings (flag, environment, saved file, default) and where dexdesk keeps its files."""
