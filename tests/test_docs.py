"""The documentation keeps up with the code: the map names every module, the README keeps its set-up
commands and its sections, and no link points nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
PACKAGES = ("app", "ui", "engine")
# The README's two set-up commands, word for word: CI runs the second exactly as a user types it.
DESK_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -c requirements.lock -e . && .venv/bin/dexdesk"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -c requirements.lock -e '.[test]' && .venv/bin/pytest"
SECTIONS = (
    "Set up",
    "The desk",
    "The command line",
    "Trading",
    "HTTP and WebSocket API",
    "Cluster",
    "Configuration",
    "Exit statuses",
    "Security",
    "Tests",
    "Further reading",
)


def _modules() -> list[str]:
    """Every module of the three packages, as a path from the project root (migration scripts aside)."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "versions" not in path.parts
    )


def test_the_architecture_map_names_every_module() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [module for module in _modules() if f"`{module}`" not in text]
    assert not missing, f"docs/architecture.md does not name {missing}: add each with its one job"


def test_the_architecture_map_names_no_module_that_is_gone() -> None:
    named = set(re.findall(r"`((?:app|ui|engine)/[\w/]+\.py)`", ARCHITECTURE.read_text(encoding="utf-8")))
    gone = sorted(name for name in named if not (ROOT / name).is_file())
    assert not gone, f"docs/architecture.md names modules that no longer exist: {gone}"


def test_the_readme_keeps_both_set_up_commands_and_ci_runs_the_test_one() -> None:
    readme = README.read_text(encoding="utf-8")
    assert DESK_COMMAND in readme
    assert TEST_COMMAND in readme
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_has_its_sections_in_order() -> None:
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    found = [next((h for h in headings if h.startswith(section)), None) for section in SECTIONS]
    assert None not in found, f"README lacks {[s for s, h in zip(SECTIONS, found, strict=True) if h is None]}"
    assert [headings.index(h) for h in found if h] == sorted(headings.index(h) for h in found if h)


@pytest.mark.parametrize(
    "page", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
    local = [link.split("#", 1)[0] for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    broken = [link for link in local if link and not (page.parent / link).exists()]
    assert not broken, f"{page.name} links to missing files: {broken}"
