"""The simulated market and the mock DEX router: pairs, prices, venues, quotes and swaps, and random
valid orders. Pure functions of (seed, pair, time).
"""
