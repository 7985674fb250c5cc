"""Distributed mode: producers enqueue on BullMQ over Redis, headless `dexdesk worker` processes run orders.

PostgreSQL is the shared store; Redis carries the queue, the cluster-wide rate window, the list of
workers alive, and (through the mirror) every committed update.
"""
