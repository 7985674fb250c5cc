"""The order board: model, columns, sort keys, filter and view."""
