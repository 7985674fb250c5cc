"""Dialogs: order detail, reports and summary, settings, errors."""
