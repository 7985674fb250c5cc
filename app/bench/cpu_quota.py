"""`bench cluster --cpu-quota Q`: each worker process in a cgroup of its own, held to Q of one core.

On a shared 2-core machine N workers, PostgreSQL and Redis all compete for the same cores, so
orders/s with more workers measures the machine, not the design. A CFS quota makes each worker
behave like a small machine of its own (Q of a core), leaving the rest to the servers: the
scaling figure (N workers ÷ 1) then shows whether the design shares anything but the servers.

cgroup v1 (`/sys/fs/cgroup/cpu`, `cpu.cfs_quota_us` over `cpu.cfs_period_us`) and v2 (`cpu.max`,
where a cgroup2 hierarchy has the cpu controller) both work; writing either needs root, or a
delegated subtree. Every cgroup made here is removed when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))


class QuotaUnavailable(Exception):
    """No writable cgroup CPU controller here: the message says which were tried and why, in one line."""


def _v2_root() -> Path | None:
    """A cgroup2 hierarchy whose root offers the cpu controller, or None."""
    for root in V2_ROOTS:
        controllers = root / "cgroup.controllers"
        with contextlib.suppress(OSError):
            if "cpu" in controllers.read_text().split():
                return root
    return None


@dataclass
class CpuQuota:
    """Cgroups of `share` of a core each, one per process put in; `close()` removes them."""

    share: float
    version: str = ""
    _root: Path = field(default=V1_ROOT)
    _made: list[Path] = field(default_factory=list)
    _name: str = field(default_factory=lambda: f"dexdesk-bench-{uuid.uuid4().hex[:10]}")

    def open(self) -> CpuQuota:
        """Find a writable CPU controller and prove it by making (and removing) one cgroup with the quota."""
        tried: list[str] = []
        if (V1_ROOT / "cpu.cfs_quota_us").exists():
            self.version, self._root = "v1", V1_ROOT
            try:
                self._remove(self._make("probe"))
                return self
            except OSError as error:
                tried.append(f"cgroup v1 at {V1_ROOT}: {error.strerror or error}")
        root = _v2_root()
        if root is not None:
            self.version, self._root = "v2", root
            try:
                with contextlib.suppress(OSError):  # already on, or the root's own business
                    (root / "cgroup.subtree_control").write_text("+cpu")
                self._remove(self._make("probe"))
                return self
            except OSError as error:
                tried.append(f"cgroup v2 at {root}: {error.strerror or error}")
        if not tried:
            tried.append("neither /sys/fs/cgroup/cpu (v1) nor a cgroup2 hierarchy with the cpu controller is mounted")
        raise QuotaUnavailable("; ".join(tried) + " (it needs root or a delegated cgroup)")

    def hold(self, pid: int) -> Path:
        """Move a process into a new cgroup of its own, held to the share; returns the cgroup's path."""
        group = self._make(str(len(self._made)))
        (group / "cgroup.procs").write_text(str(pid))
        return group

    def close(self) -> None:
        """Remove every cgroup made here (a process still in one goes back to the root first)."""
        for group in reversed(self._made):
            with contextlib.suppress(OSError):
                self._remove(group)
        self._made.clear()

    def _make(self, suffix: str) -> Path:
        group = self._root / f"{self._name}-{suffix}"
        group.mkdir()
        self._made.append(group)
        if self.version == "v1":
            period = int((self._root / "cpu.cfs_period_us").read_text())
            (group / "cpu.cfs_period_us").write_text(str(period))
            (group / "cpu.cfs_quota_us").write_text(str(max(1000, round(self.share * period))))
        else:
            period = 100_000
            (group / "cpu.max").write_text(f"{max(1000, round(self.share * period))} {period}")
        return group

    def _remove(self, group: Path) -> None:
        with contextlib.suppress(OSError):
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self._root / "cgroup.procs").write_text(pid)
        os.rmdir(group)
        if group in self._made:
            self._made.remove(group)
