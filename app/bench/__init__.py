"""`dexdesk bench`: what a user of dexdesk feels, measured (engine, spec, board, export).

Each bench prints a table, or one JSON object with `--json`. The engine bench and the others
that need a database make a scratch one (a temporary SQLite file, or a fresh schema in the
PostgreSQL given by `--db`) and drop it afterwards: a benchmark never touches the user's orders.
"""
