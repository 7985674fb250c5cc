"""A desk on a fresh machine: a missing Qt platform library or display is one line and exit 1, never a core dump.

Real `dexdesk` processes on this machine's real dynamic loader. What is missing here is found
independently of the project's check, with `ldd` on the xcb plugin PySide6 ships.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import PySide6
import pytest

from app.system_check import QT_LIBRARIES, XCB_LIBRARIES, install_command, linux_family
from tests.faults.support import DEXDESK, dexdesk_env

README = Path(__file__).resolve().parents[1] / "README.md"
XCB_PLUGIN = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
NO_SUCH_DISPLAY = ":987"  # no X server listens on /tmp/.X11-unix/X987


def _not_found_by_ldd() -> list[str]:
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed: nothing independent to compare the check with")
    listing = subprocess.run(["ldd", str(XCB_PLUGIN)], capture_output=True, text=True, check=True).stdout
    return [line.split("=>")[0].strip() for line in listing.splitlines() if "not found" in line]


def _desk(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    return subprocess.run(
        [DEXDESK, "--db", database], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def _without(environment: dict[str, str], *names: str) -> dict[str, str]:
    return {key: value for key, value in environment.items() if key not in names}


@pytest.mark.slow
@pytest.mark.skipif(not XCB_PLUGIN.exists(), reason="this PySide6 has no xcb platform plugin (not Linux)")
def test_a_missing_platform_library_or_display_is_one_line_and_exit_1(tmp_path: Path) -> None:
    environment = _without(dexdesk_env(tmp_path), "QT_QPA_PLATFORM", "WAYLAND_DISPLAY")
    environment["DISPLAY"] = NO_SUCH_DISPLAY
    missing = _not_found_by_ldd()

    result = _desk(tmp_path, environment)

    assert result.returncode == 1, (result.returncode, result.stderr)  # Qt's abort would be -6 / 134
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dexdesk: ")
    known = {library.soname: library for library in QT_LIBRARIES + XCB_LIBRARIES}
    if missing:
        assert set(missing) <= set(known), f"the check does not know {set(missing) - set(known)}"
        for soname in missing:
            assert soname in lines[0]
            library = known[soname]
            assert any(f" {package}" in lines[0] for package in (library.debian, library.fedora, library.arch))
        assert "install" in lines[0]
    else:
        assert f"cannot connect to the X display '{NO_SUCH_DISPLAY}'" in lines[0]


@pytest.mark.slow
def test_no_display_at_all_is_one_line_and_exit_1(tmp_path: Path) -> None:
    environment = _without(dexdesk_env(tmp_path), "QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")

    result = _desk(tmp_path, environment)

    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dexdesk: no display")


def test_the_readme_lists_every_library_for_three_package_managers() -> None:
    readme = README.read_text(encoding="utf-8")
    for family in ("debian", "fedora", "arch"):
        assert install_command(QT_LIBRARIES + XCB_LIBRARIES, family) in readme


@pytest.mark.parametrize(
    ("os_release", "family"),
    [
        ('ID=debian\nVERSION_ID="12"\n', "debian"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "debian"),
        ('ID="fedora"\n', "fedora"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora"),
        ("ID=arch\n", "arch"),
        ("ID=alpine\n", None),
    ],
)
def test_the_install_line_speaks_this_systems_package_manager(
    tmp_path: Path, os_release: str, family: str | None
) -> None:
    path = tmp_path / "os-release"
    path.write_text(os_release, encoding="utf-8")
    assert linux_family(path) == family
