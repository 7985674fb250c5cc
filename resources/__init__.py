"""dexdesk's data files (pairs.json), installed as the package `dexdesk_resources` and read with importlib.resources."""
