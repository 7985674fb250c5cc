"""One real `dexdesk serve` per test module (starting one costs a second), on its own SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.server import ServeProcess, started


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = started(tmp_path_factory.mktemp("serve"))
    try:
        yield process
    finally:
        status, err = process.stop()
        assert status == 0, err
        assert "Traceback" not in err, err
