"""Issue 16 item 1 and 7: `export` never replaces what is not a regular file, and says why in one line.

FIFOs and terminals are streamed into; a symlink's target gets the report and the link stays;
a device node (a `mknod` copy in a temp dir, never the real /dev) and a folder are refused; an
existing file keeps its mode; two exports to one file at once do not share a partial file.
"""

from __future__ import annotations

import asyncio
import csv
import os
import stat
import threading
from pathlib import Path

import pytest

from app.cli import main
from engine.reporting.reports import HEADER, export_csv
from engine.storage import OrderStore
from tests.faults.hardening import dexdesk, one_line, sqlite_with_orders


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    made = sqlite_with_orders(tmp_path)
    capsys.readouterr()
    return made


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(text.lstrip("\ufeff").splitlines()))


@pytest.mark.slow
def test_fifo_is_streamed_into_and_stays_a_fifo(url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = dexdesk(tmp_path, "--db", url, "export", str(fifo))
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    rows = _rows(received[0].decode("utf-8"))
    assert rows[0] == list(HEADER)
    assert len(rows) == 6
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.slow
def test_symlink_keeps_the_link_and_its_target_gets_the_report(url: str, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = dexdesk(tmp_path, "--db", url, "export", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert len(_rows(real.read_text(encoding="utf-8-sig"))) == 6


@pytest.mark.slow
@pytest.mark.parametrize(("name", "major", "minor"), [("full", 1, 7), ("null", 1, 3)])
def test_device_node_copy_is_refused_and_left_alone(
    url: str, tmp_path: Path, name: str, major: int, minor: int
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    node = tmp_path / name
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    result = dexdesk(tmp_path, "--db", url, "export", str(node))
    assert result.returncode == 2
    one_line(result.stderr, "FILE", "device", what=f"export to a mknod copy of /dev/{name}")
    assert stat.S_ISCHR(node.lstat().st_mode)
    assert node.lstat().st_rdev == os.makedev(major, minor)


def test_existing_file_keeps_its_mode(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    assert main(["--db", url, "export", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert len(_rows(target.read_text(encoding="utf-8-sig"))) == 6


@pytest.mark.slow
def test_dash_streams_to_standard_output(url: str, tmp_path: Path) -> None:
    result = dexdesk(tmp_path, "--db", url, "export", "-")
    assert result.returncode == 0, result.stderr
    assert len(_rows(result.stdout)) == 6
    assert result.stderr.strip() == "wrote 5 orders to -"


BAD_TARGETS = [
    ("folder", lambda tmp: str(tmp), 2, "folder"),
    ("name over 255 bytes", lambda tmp: str(tmp / ("x" * 256 + ".csv")), 2, "255"),
    ("empty name", lambda tmp: "", 2, "required"),
    ("missing folder", lambda tmp: str(tmp / "nope" / "r.csv"), 2, "does not exist"),
    ("under /proc", lambda tmp: "/proc/x.csv", 1, "cannot write"),
    ("under a file", lambda tmp: str(tmp / "orders.db" / "r.csv"), 2, "not a folder"),
]


@pytest.mark.parametrize(("what", "make", "code", "word"), BAD_TARGETS, ids=[b[0] for b in BAD_TARGETS])
def test_bad_target_is_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, make: object, code: int, word: str
) -> None:
    assert callable(make)
    assert main(["--db", url, "export", make(tmp_path)]) == code
    one_line(capsys.readouterr().err, word, what=f"export to {what}")
    assert not list(tmp_path.glob(".*partial"))


async def test_two_exports_to_one_file_at_once_do_not_share_a_partial_file(url: str, tmp_path: Path) -> None:
    target = tmp_path / "same.csv"
    store = OrderStore(url)
    await store.open()
    try:
        counts = await asyncio.gather(export_csv(store, target), export_csv(store, target))
    finally:
        await store.close()
    assert list(counts) == [5, 5]
    assert len(_rows(target.read_text(encoding="utf-8-sig"))) == 6
    assert not [path.name for path in os.scandir(tmp_path) if path.name.endswith(".partial")]
