"""The paper account: balances per token, reservations, fills, positions and PnL."""
