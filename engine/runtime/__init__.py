"""Running orders: the engine, its queue, start gate, retries, limit book, the attempt pipeline
and the coordination between processes sharing a database. Never imports engine.cluster.
"""
