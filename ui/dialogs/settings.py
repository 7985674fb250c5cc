"""Settings: queue and router numbers apply to the running engine at once, the Redis mirror reconnects at once,
and only the database needs a restart.

Values are validated by the same pydantic `Settings` model the command line uses, so the dialog
cannot save something the next start would refuse.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config.paths import default_db_url
from engine.config.settings import Settings


class SettingsDialog(QDialog):
    """`result_settings` holds the accepted settings; `needs_restart` says if the database changed."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.original = settings
        self.result_settings: Settings | None = None
        note = QLabel("Settings are saved for the next start; flags and DEXDESK_* variables still override them.")
        note.setObjectName("hint")
        note.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for group in (
            self._queue_group(settings),
            self._storage_group(settings),
            self._mirror_group(settings),
            self._api_group(settings),
            self._desk_group(settings),
        ):
            layout.addWidget(group)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _queue_group(self, settings: Settings) -> QGroupBox:
        self.time_scale = _number(QDoubleSpinBox(decimals=2, minimum=0, maximum=1000, singleStep=0.1))
        self.time_scale.setToolTip("Simulated waits × this: 1 is real time, 0 skips them")
        self.time_scale.setValue(settings.time_scale)
        self.time_scale.setSuffix(" ×")
        self.concurrency = _number(QSpinBox(minimum=1, maximum=1000))
        self.concurrency.setToolTip("Orders in flight at once")
        self.concurrency.setValue(settings.concurrency)
        self.rate_limit = _number(QSpinBox(minimum=0, maximum=1_000_000, suffix=" per min"))
        self.rate_limit.setSpecialValueText("off")
        self.rate_limit.setToolTip("Attempt starts per 60 s; 0 turns the limit off")
        self.rate_limit.setValue(settings.rate_limit)
        self.slippage = _number(QDoubleSpinBox(decimals=2, minimum=0.01, maximum=50, singleStep=0.1, suffix=" %"))
        self.slippage.setToolTip("An attempt fails if it executes worse than its quote by more than this")
        self.slippage.setValue(float(settings.slippage_tolerance * 100))
        self.failure_rate = _number(QDoubleSpinBox(decimals=1, minimum=0, maximum=100, singleStep=1, suffix=" %"))
        self.failure_rate.setToolTip("Share of attempts that fail the way networks do (timeouts, dropped transactions)")
        self.failure_rate.setValue(settings.failure_rate * 100)
        return _group(
            "Queue and router — applied at once",
            [
                ("Time scale", self.time_scale),
                ("Concurrency", self.concurrency),
                ("Rate limit", self.rate_limit),
                ("Slippage tolerance", self.slippage),
                ("Failure rate", self.failure_rate),
            ],
        )

    def _storage_group(self, settings: Settings) -> QGroupBox:
        self.db_url = QLineEdit(settings.db_url or "")
        self.db_url.setPlaceholderText(default_db_url())
        self.db_url.setToolTip(
            "sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db; empty = the default file"
        )
        return _group("Storage — used from the next start", [("Database URL", self.db_url)])

    def _mirror_group(self, settings: Settings) -> QGroupBox:
        self.redis_url = QLineEdit(settings.redis_url or "")
        self.redis_url.setPlaceholderText("redis://localhost:6379/0 (optional)")
        self.redis_url.setToolTip(
            "Publish every update on order-updates:{id} for external listeners (dexdesk watch); empty = off"
        )
        self.redis_prefix = QLineEdit(settings.redis_prefix)
        self.redis_prefix.setToolTip(
            "Prefix of the snapshot keys ({prefix}:order:{id}, {prefix}:active), so desks sharing a Redis never "
            "collide; channels are never prefixed"
        )
        return _group(
            "Redis mirror — reconnects at once", [("Redis URL", self.redis_url), ("Key prefix", self.redis_prefix)]
        )

    def _api_group(self, settings: Settings) -> QGroupBox:
        self.serve_api = QCheckBox("Serve the API on port")
        self.serve_api.setToolTip(
            "HTTP + WebSocket API on 127.0.0.1 while the desk runs (POST /api/orders, WS /ws/orders/{id}, /docs)"
        )
        self.serve_api.setChecked(settings.serve_api_port is not None)
        self.api_port = _number(QSpinBox(minimum=1024, maximum=65535))
        self.api_port.setValue(settings.serve_api_port or 8000)
        self.api_port.setEnabled(self.serve_api.isChecked())
        self.serve_api.toggled.connect(self.api_port.setEnabled)
        return _group("HTTP API — starts and stops at once", [(self.serve_api, self.api_port)])

    def _desk_group(self, settings: Settings) -> QGroupBox:
        self.theme = QComboBox()
        self.theme.addItem("Dark", "dark")
        self.theme.addItem("Light", "light")
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.setToolTip("Dark for a long day at the screen; light for a bright room or a projector")
        self.limit_warning = _number(QDoubleSpinBox(decimals=1, minimum=0, maximum=100, singleStep=1, suffix=" %"))
        self.limit_warning.setSpecialValueText("never")
        self.limit_warning.setToolTip(
            "The ticket asks before sending a limit this far through the market (it would fill at once); 0 = never"
        )
        self.limit_warning.setValue(settings.limit_warning_pct)
        self.notifications = QCheckBox("Desktop notifications for my orders and bursts (no sound)")
        self.notifications.setToolTip(
            "CONFIRMED/FAILED of orders sent from this desk and a finished burst also appear as a system "
            "notification, besides the desk's own notice"
        )
        self.notifications.setChecked(settings.desktop_notifications)
        return _group(
            "Desk — applied at once",
            [
                ("Theme", self.theme),
                ("Ask for a limit through the market by", self.limit_warning),
                ("", self.notifications),
            ],
        )

    def chosen(self) -> Settings:
        """The settings as typed; raises ValidationError naming the field if one is unusable."""
        values = self.original.model_dump()
        values.update(
            time_scale=self.time_scale.value(),
            concurrency=self.concurrency.value(),
            rate_limit=self.rate_limit.value(),
            slippage_tolerance=Decimal(f"{self.slippage.value():.2f}") / 100,
            failure_rate=round(self.failure_rate.value() / 100, 4),
            db_url=self.db_url.text().strip() or None,
            redis_url=self.redis_url.text().strip() or None,
            redis_prefix=self.redis_prefix.text().strip(),
            theme=self.theme.currentData(),
            desktop_notifications=self.notifications.isChecked(),
            limit_warning_pct=round(self.limit_warning.value(), 1),
            serve_api_port=self.api_port.value() if self.serve_api.isChecked() else None,
        )
        return Settings.model_validate(values)

    @property
    def needs_restart(self) -> bool:
        chosen = self.result_settings
        return chosen is not None and chosen.db_url != self.original.db_url

    def accept(self) -> None:
        try:
            self.result_settings = self.chosen()
        except ValidationError as problem:
            first = problem.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            self.error.setText(f"{field}: {first['msg'].removeprefix('Value error, ')}")
            self.error.show()
            return
        super().accept()


Spin = TypeVar("Spin", QSpinBox, QDoubleSpinBox)


def _number(spin: Spin) -> Spin:
    """A right-aligned number field without arrows (arrows and the wheel still step)."""
    spin.setFixedWidth(160)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
    # Fusion gives a styled, button-less spin box a 1 px wide editor; its value would be invisible.
    spin.lineEdit().setMinimumWidth(146)
    return spin


def _group(title: str, rows: list[tuple[str | QWidget, QWidget]]) -> QGroupBox:
    """One settings group: a titled box, a label and a field per row."""
    box = QGroupBox(title)
    form = QFormLayout(box)
    for label, field in rows:
        if isinstance(label, str):  # addRow's overloads take a text or a widget, not either
            form.addRow(label, field)
        else:
            form.addRow(label, field)
    return box
