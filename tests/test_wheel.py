"""The wheel works: built from the checkout, installed in a fresh virtualenv, run from outside the checkout.

Kept quick: the wheel goes in with --no-deps, and the new virtualenv sees this test environment's
third-party packages through a path file (whose own .pth files, such as the editable install's
finder, are not processed), so every dexdesk module and pairs.json come from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]


def _run(
    command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_the_built_wheel_submits_an_order_from_outside_the_checkout(tmp_path: Path) -> None:
    wheels, venv, outside = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    outside.mkdir()
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(CHECKOUT)])
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("dexdesk-*.whl")

    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    installed = _run(pip)
    assert installed.returncode == 0, installed.stderr

    where = _run(
        [str(python), "-c", "import engine.trading.pairs, dexdesk_resources; print(engine.trading.pairs.__file__)"],
        cwd=outside,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    environment = {key: value for key, value in os.environ.items() if not key.startswith("DEXDESK_")}
    environment.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    command = [str(venv / "bin" / "dexdesk"), "submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY"]
    result = _run([*command, "--time-scale", "0", "--seed", "1"], cwd=outside, env=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "CONFIRMED" in result.stdout
