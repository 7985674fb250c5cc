"""Fault 5: hostile order input, fuzzed.

Every case is a valid order or a message naming the field; nothing invalid is ever stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from engine.model.domain import Direction
from engine.model.validation import InvalidOrder, OrderRequest, validate_order
from engine.trading.pairs import default_catalog
from tests.faults.support import DEXDESK, TALLY, dexdesk_env

CATALOG = default_catalog()
FIELDS = ("pair", "amount", "direction")
SPACE = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2003", "\u200b"])


def _cased(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(ch.upper() if up else ch.lower() for ch, up in zip(word, flips, strict=True))
    )


pairs = st.one_of(
    st.sampled_from(CATALOG.names).flatmap(_cased),
    st.builds(lambda a, p, b: a + p + b, SPACE, st.sampled_from(CATALOG.names), SPACE),
    st.text(max_size=20),
    st.sampled_from(["SOL/USDC", "SOL-USDC-USDT", "ＳＯＬ-ＵＳＤＣ", "SOL\u2010USDC", "sol-usdc\x00", "-"]),
)
amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-5, 5000), st.integers(-400, 400)),
    st.builds(lambda z: "0." + "0" * z + "1", st.integers(0, 60)),
    st.builds(lambda n: "9" * n, st.integers(1, 90)),
    st.builds(lambda a, n, b: a + n + b, SPACE, st.sampled_from(["10.5", "1", "0.001", ".5", "5."]), SPACE),
    st.text(max_size=12),
    st.sampled_from(["", " ", "١٢٣", "１０", "1,5", "1_000", "+1", "--1", "0x10", "1/2", "NaN", "-inf", "1e3"]),
)
directions = st.one_of(
    st.sampled_from(["BUY", "SELL"]).flatmap(_cased),
    st.builds(lambda a, d, b: a + d + b, SPACE, st.sampled_from(["buy", "SELL"]), SPACE),
    st.text(max_size=8),
    st.sampled_from(["", "HOLD", "ＢＵＹ", "buyy", "b", "SELL\x00"]),
)


def _valid_by_the_rules(request: OrderRequest) -> bool:
    """An independent reading of docs/contract.md's rules for an order the validator accepted."""
    spec = CATALOG.get(request.pair)
    if spec is None or request.direction not in (Direction.BUY, Direction.SELL):
        return False
    amount = request.amount
    exponent = amount.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount.is_finite() and spec.min_amount <= amount <= spec.max_amount and places <= spec.decimals


@settings(max_examples=300, deadline=None)
@given(pair=pairs, amount=amounts, direction=directions)
def test_validation_accepts_only_valid_orders_and_names_the_field(pair: str, amount: str, direction: str) -> None:
    try:
        request = validate_order(pair, amount, direction, CATALOG)
    except InvalidOrder as refusal:
        problems = refusal.errors
    else:
        problems = []
    if problems:
        for problem in problems:
            assert problem.field in FIELDS
            assert str(problem).startswith(f"{problem.field}: ")
            assert "\n" not in str(problem)
        return
    assert _valid_by_the_rules(request), request
    try:
        assert Decimal(amount.strip()) == request.amount
    except InvalidOperation:
        pytest.fail(f"accepted an amount Decimal cannot read: {amount!r}")


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "orders.db"


def _stored(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        return list(connection.execute("SELECT pair, amount, direction FROM orders"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=pairs, amount=amounts, direction=directions)
def test_cli_submit_refuses_bad_input_with_one_line_per_field(
    cli_db: Path, capsys: pytest.CaptureFixture[str], pair: str, amount: str, direction: str
) -> None:
    before = _stored(cli_db)
    try:
        expected: OrderRequest | None = validate_order(pair, amount, direction, CATALOG)
    except InvalidOrder:
        expected = None
    args = ["submit", f"--pair={pair}", f"--amount={amount}", f"--direction={direction}"]
    status = main([*args, "--db", f"sqlite+aiosqlite:///{cli_db}", "--time-scale", "0", "--rate-limit", "0"])
    captured = capsys.readouterr()
    after = _stored(cli_db)
    assert "Traceback" not in captured.err
    if expected is None:
        assert status == 2
        lines = captured.err.strip().splitlines()
        assert lines
        assert all(line.startswith(tuple(f"dexdesk: {field}: " for field in FIELDS)) for line in lines), lines
        assert after == before, "an invalid order was stored"
    else:
        assert status in (0, 1)  # CONFIRMED or FAILED: a real order ran
        assert len(after) == len(before) + 1
        pair_stored, amount_stored, direction_stored = after[-1]
        assert (pair_stored, Decimal(amount_stored), direction_stored) == (
            expected.pair,
            expected.amount,
            str(expected.direction),
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pair", "amount", "direction", "fields"),
    [
        ("", "1e3", "HOLD", ["pair", "amount", "direction"]),
        ("SOL-USDC", "١٢", "buy", ["amount"]),
        ("BONK-USDC", "10000.5", "BUY", ["amount"]),
    ],
)
def test_real_process_refuses_bad_input(
    tmp_path: Path, pair: str, amount: str, direction: str, fields: list[str]
) -> None:
    path = tmp_path / "orders.db"
    result = subprocess.run(
        [
            DEXDESK,
            "submit",
            f"--pair={pair}",
            f"--amount={amount}",
            f"--direction={direction}",
            "--db",
            f"sqlite+aiosqlite:///{path}",
        ],
        env=dexdesk_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    TALLY.fault(f"bad input to a real process ({', '.join(fields)})")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # one line naming every bad field: "dexdesk: pair: …; amount: …"
    assert lines[0].startswith("dexdesk: ")
    assert [problem.split(":")[0].strip() for problem in lines[0].removeprefix("dexdesk: ").split("; ")] == fields
    assert _stored(path) == []


def test_engine_refuses_what_the_cli_refuses(sqlite_url: str) -> None:
    """The desk's path (engine.submit) stores nothing for bad input either."""
    from tests.conftest import running

    async def attempt() -> int:
        async with running(sqlite_url) as engine:
            for pair, amount, direction in [("", "1", "BUY"), ("SOL-USDC", "-1", "SELL"), ("SOL-USDC", "1", "x")]:
                with pytest.raises(InvalidOrder):
                    await engine.submit(pair, amount, direction)
            return len(await engine.store.list_orders())

    assert asyncio.run(attempt()) == 0
