"""The desk's fixtures, shared with the cluster tests; the cluster's figures are printed by tests/figures.py."""

from __future__ import annotations

from tests.ui.conftest import layout_file, open_desk, qloop  # noqa: F401 - the desk's fixtures, shared
