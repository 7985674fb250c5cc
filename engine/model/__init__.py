"""The order's vocabulary: the order and its update message, the lifecycle, log kinds, validation, the
figures read off an executed order, JSON, exit statuses and the one clock every simulated wait goes
through. Below the runtime: it never imports it.
"""
