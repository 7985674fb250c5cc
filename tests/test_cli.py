"""The `dexdesk` commands as a user types them (in-process for speed; fault tests run real processes)."""

from __future__ import annotations

import csv
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import main
from engine.reporting.reports import COLUMNS
from tests.faults.support import DEXDESK, dexdesk_env

CONTRACT_KEYS = {"orderId", "status", "timestamp", "dex", "executionPrice", "txHash", "error", "attempt", "retryInMs"}


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "--time-scale", "0", "--seed", "3"]


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.strip().splitlines()]


def test_submit_json_prints_one_contract_message_per_state(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["submit", "--pair", "SOL-USDC", "--amount", "10.5", "--direction", "BUY", "--json", *db])
    messages = _json_lines(capsys.readouterr().out)
    assert status == (0 if messages[-1]["status"] == "CONFIRMED" else 1)
    assert [m["status"] for m in messages][:2] == ["PENDING", "ROUTING"]
    assert messages[-1]["status"] in ("CONFIRMED", "FAILED")
    assert all(set(message) <= CONTRACT_KEYS for message in messages)
    assert len({message["orderId"] for message in messages}) == 1
    assert all(str(message["timestamp"]).endswith("Z") and len(str(message["timestamp"])) == 24 for message in messages)


def test_submit_wait_prints_the_id_then_readable_lines(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["submit", "--pair", "eth-usdc", "--amount", "0.5", "--direction", "sell", "--wait", *db])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines[0]) == 36
    assert lines[0].count("-") == 4
    text = "\n".join(lines)
    for state in ("PENDING", "ROUTING", "BUILDING", "SUBMITTED"):
        assert state in text
    assert "raydium quote" in text
    assert "meteora quote" in text
    assert "bps" in text
    assert ("txHash" in text) == (status == 0)


def test_failed_order_exits_1_and_keeps_its_reason(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # The failure rate is a saved setting (the desk's Settings dialog), not a flag.
    from engine.config.settings import Settings, save

    save(Settings(failure_rate=1.0))
    status = main(["submit", "--pair", "BONK-USDC", "--amount", "50000", "--direction", "BUY", "--json", *db])
    messages = _json_lines(capsys.readouterr().out)
    assert status == 1
    assert messages[-1]["status"] == "FAILED"
    assert messages[-1]["error"]
    assert [m["retryInMs"] for m in messages if "retryInMs" in m] == [2000, 4000]


def test_a_run_whose_orders_fail_still_did_its_job(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # FAILED orders are outcomes the simulation produces on purpose: the summary counts them, exit 0.
    from engine.config.settings import Settings, save

    save(Settings(failure_rate=1.0))
    assert main(["run", "--orders", "4", "--json", *db]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["failed"] == 4


@pytest.mark.parametrize("command", ["submit", "run", "list", "show", "export", "resume", "watch", "info", "cancel"])
def test_every_command_documents_its_exit_statuses(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = capsys.readouterr().out
    assert "exit status:" in help_text
    assert "\n  0 " in help_text


def test_list_show_and_export_agree(db: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "--orders", "12", "--json", *db]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["orders"] == 12
    assert summary["confirmed"] + summary["failed"] == 12

    assert main(["list", "--json", "--limit", "0", *db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 12
    assert set(listed[0]) == {
        "id", "pair", "amount", "direction", "status", "dex", "executionPrice",
        "txHash", "attempts", "error", "createdAt", "updatedAt",
    }  # fmt: skip

    newest = listed[0]
    assert main(["show", newest["id"][:8], "--json", *db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == newest["id"]
    assert shown["logs"][0]["status"] == "PENDING"
    assert {"timestamp", "status", "kind", "message", "data"} == set(shown["logs"][0])
    assert shown["logs"][0]["kind"] == "received"

    report = tmp_path / "report.csv"
    assert main(["export", str(report), *db]) == 0
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    assert b"\r\n" in raw
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0])[: len(COLUMNS)] == COLUMNS  # the contract's columns first, in order
    assert {row["id"] for row in rows} == {order["id"] for order in listed}
    by_id = {row["id"]: row for row in rows}
    for order in listed:
        row = by_id[order["id"]]
        assert row["amount"] == str(order["amount"])
        assert row["status"] == order["status"]
        if order["executionPrice"] is not None:
            assert Decimal(row["executionPrice"]) == Decimal(str(order["executionPrice"]))


def test_filters_and_unknown_ids_are_named(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--status", "done", *db]) == 2
    assert "status: must be one of PENDING" in capsys.readouterr().err
    assert main(["show", "ffffffff", *db]) == 2
    assert "does not exist" in capsys.readouterr().err  # read-only commands never create a database
    assert main(["run", "--orders", "1", *db]) in (0, 1)
    capsys.readouterr()
    assert main(["show", "ffffffff", *db]) == 2
    assert "ID: no order has this id" in capsys.readouterr().err


def test_version_and_info_name_the_database(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dexdesk ")
    assert "dexdesk.db" in out  # the default SQLite file in the user's data directory
    assert main(["run", "--orders", "1", *db]) in (0, 1)
    capsys.readouterr()
    assert main(["info", *db]) == 0
    assert "cli.db" in capsys.readouterr().out


def _stored(db: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    """The stored orders; none when the database was never even created."""
    capsys.readouterr()
    status = main(["list", "--json", "--limit", "0", *db])
    if status == 2:
        assert "does not exist" in capsys.readouterr().err
        return []
    assert status == 0
    listed = json.loads(capsys.readouterr().out)
    assert isinstance(listed, list)
    return listed


def test_a_shortfall_is_one_line_naming_the_field_exit_2_nothing_stored(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["account", "reset", "--balances", "USDC=10", *db]) == 0
    capsys.readouterr()
    assert main(["submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", *db]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("dexdesk: amount: needs ")
    assert "cannot tell" not in captured.err
    assert captured.out == ""
    assert _stored(db, capsys) == []


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (["--amount", " 1"], "dexdesk: amount: must be a plain decimal number like 10.5, without spaces around it"),
        (["--amount", "1 "], "dexdesk: amount: must be a plain decimal number like 10.5, without spaces around it"),
        (
            ["--amount", "-1", "--pair", "DOGE-USDC"],
            "dexdesk: pair: must be one of the listed pairs",
        ),
        (["--slippage", " 1"], "dexdesk: slippage: must be a percentage, e.g. 0.5 for 0.5 %"),
        (
            ["--type", "limit", "--limit-price", "100 "],
            "dexdesk: limitPrice: must be a plain decimal number like 10.5, without spaces around it",
        ),
    ],
)
def test_a_refused_submit_is_one_line_exit_2_nothing_stored(
    db: list[str], capsys: pytest.CaptureFixture[str], arguments: list[str], line: str
) -> None:
    base = {"--pair": "SOL-USDC", "--amount": "1", "--direction": "BUY"}
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    command = [item for name, value in {**base, **given}.items() for item in (name, value)]
    assert main(["submit", *command, *db]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(line)
    assert _stored(db, capsys) == []


def test_submit_help_documents_cancelled_and_every_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["submit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "1 the order FAILED" in help_text
    assert "CANCELLED by `dexdesk cancel`, the desk or the API" in help_text
    assert "cannot tell whether … was stored" in help_text
    assert "2 bad input, one line naming the field and its rule" in help_text


def test_a_stale_wal_beside_a_missing_database_is_named_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "gone.db"
    (tmp_path / "gone.db-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    db = ["--db", f"sqlite+aiosqlite:///{database}", "--time-scale", "0"]
    assert main(["submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", *db]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "is missing but its write-ahead log" in lines[0]
    assert "stale -wal" in lines[0]
    assert "delete gone.db-wal and gone.db-shm" in lines[0]
    assert not database.exists()


def test_an_order_cancelled_elsewhere_ends_submit_with_why_and_resume_counts_agree(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = ["--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY", "--type", "limit", "--limit-price", "1"]
    waiting = subprocess.Popen(
        [DEXDESK, "submit", *limit, *db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dexdesk_env(tmp_path),
    )
    try:
        assert waiting.stdout is not None
        order_id = waiting.stdout.readline().strip()  # the id, printed once the order is stored
        assert len(order_id) == 36, waiting.stderr.read() if waiting.stderr else ""
        capsys.readouterr()
        assert main(["resume", *db]) == 0
        said = capsys.readouterr().out.strip().splitlines()
        assert said == ["resumed 0 unfinished orders; 1 other unfinished order is run by other live processes"]
        assert main(["cancel", order_id, *db]) == 0
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
    assert waiting.returncode == 1, err
    assert out.strip().startswith(f"{order_id} CANCELLED: ")
    reason = out.strip().removeprefix(f"{order_id} CANCELLED: ")
    assert reason.strip()


def test_a_run_names_the_redis_url_it_took_from_the_desks_saved_settings(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A Redis URL saved in the desk's Settings is not silent: `run` says first where its updates go."""
    from engine.config.settings import Settings, save

    save(Settings(redis_url="redis://127.0.0.1:1/0"))  # nothing listens there: the run carries on without it
    status = main(["run", "--orders", "3", "--json", *db])
    said = capsys.readouterr().err.splitlines()
    assert status == 0
    assert said[0].startswith("dexdesk: publishing every update to Redis at redis://127.0.0.1:1/0, from the saved")
    assert "settings.json" in said[0]

    save(Settings())
    main(["run", "--orders", "1", "--json", "--redis", "redis://127.0.0.1:1/0", *db])
    assert "from the saved settings" not in capsys.readouterr().err, "a URL given on the command line is known"
