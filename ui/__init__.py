"""The desk: every Qt widget, model and the bridge from engine updates to Qt signals."""
