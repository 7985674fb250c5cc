"""What a trader reads off stored orders: the CSV report, where it may be written, the summary."""
