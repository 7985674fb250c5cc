"""The price chart dock: the ticket's pair, its reference and both venues over time, fills and waiting limits.

Drawn with pyqtgraph (a plot of thousands of points that pans and zooms smoothly, which a
hand-written QPainter chart would have to rebuild). The market is sampled once a second from the
engine; on switching pair the last ten minutes are drawn at once (the market can be read at any
moment). Each venue is drawn as what a BUY pays (solid) and a SELL receives (dotted) there, fees
included: the prices limit orders trigger on and fills execute at, so a limit line is crossed
when its venue's line crosses it and a fill sits on its venue's line. Fills are ▲ green BUY / ▼
red SELL at their execution price and time, with the order in the tooltip; waiting limit orders
are dashed horizontal lines at their limit. After a pan or zoom the view stays put; "Back to
live" (or switching pair) follows the live edge again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.model.domain import Direction, Order, Venue
from engine.runtime.engine import Engine
from ui.chart_model import ChartModel, LimitLine, Sample, effective_prices
from ui.formatting import PairFormats
from ui.theme import Theme, follow_theme

SAMPLE_MS = 1000
REDRAW_MS = 250  # fills and limits redraw at most four times a second, however fast orders stream
BACKFILL_S = 600
BACKFILL_STEP_S = 2.0
FOLLOW_WINDOW_S = 180.0
COLORS = {"reference": "#c9d1d9", Venue.RAYDIUM: "#a371f7", Venue.METEORA: "#f0883e"}
BUY_COLOR = "#3fb950"
SELL_COLOR = "#f85149"
PLOT_BACKGROUND = "#0d1117"
# On a light theme the plot is the theme's base and the reference line a dark grey, so it still reads.
LIGHT_REFERENCE = "#57606a"


def chart_key(reference: str = COLORS["reference"]) -> str:
    """The chart's legend as one line of coloured text: a venue is a colour, a side a line style."""

    def swatch(color: str, text: str) -> str:
        return f'<span style="color:{color}">{text}</span>'

    def keep(text: str) -> str:  # a line breaks between entries, never inside one
        return text.replace(" ", "&nbsp;")

    entries = [
        swatch(reference, "━") + "&nbsp;reference",
        *(swatch(COLORS[venue], "━") + f"&nbsp;{venue}" for venue in Venue),
        keep("solid: BUY pays"),
        keep("dotted: SELL gets"),
        swatch(BUY_COLOR, "▲") + keep(" BUY fill"),
        swatch(SELL_COLOR, "▼") + keep(" SELL fill"),
        keep("dashed: waiting limit"),
    ]
    return " &nbsp; ".join(entries)


class PriceChart(QWidget):
    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.model = ChartModel(PairFormats(engine.catalog))
        self.pair = engine.catalog.names[0]
        pg.setConfigOptions(antialias=True)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.title.setMinimumWidth(1)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setBackground(PLOT_BACKGROUND)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # The key sits above the plot, not in it: a legend inside the view covered the newest prices
        # and the fill of a large order (seen at 1366×768: a 40,000 SOL BUY's ▲ hidden under it).
        self.key = QLabel(chart_key())
        self.key.setObjectName("chartKey")
        self.key.setWordWrap(True)
        self.key.setMinimumWidth(1)  # it wraps: its one-line width is no reason to take the account's
        self.key.setStyleSheet(f"background:{PLOT_BACKGROUND}; color:{COLORS['reference']}; padding:2px 6px;")
        self.plot.setLabel("left", "price")
        # Each axis draws its grid across the whole plot, so any repaint of the plot (a fill, a sample,
        # following live) replayed both axes' recorded tick labels: about half of the chart's paint
        # (py-spy). Kept as pixmaps, they are drawn again only when pyqtgraph updates them (the view moved).
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._reference = self.plot.plot(pen=pg.mkPen(COLORS["reference"], width=1), name="reference")
        dotted = pg.QtCore.Qt.PenStyle.DotLine
        self._curves = {
            (venue, side): self.plot.plot(
                pen=pg.mkPen(COLORS[venue], width=2 if side is Direction.BUY else 1.5,
                             style=pg.QtCore.Qt.PenStyle.SolidLine if side is Direction.BUY else dotted),
                name=f"{venue} {'BUY pays' if side is Direction.BUY else 'SELL gets'}",
            )
            for venue in Venue
            for side in Direction
        }  # fmt: skip
        self._buys = pg.ScatterPlotItem(
            symbol="t1", size=13, brush=pg.mkBrush(BUY_COLOR), pen=pg.mkPen("#0d1117"), hoverable=True,
            tip=self._tip, name="BUY fill",
        )  # fmt: skip
        self._sells = pg.ScatterPlotItem(
            symbol="t", size=13, brush=pg.mkBrush(SELL_COLOR), pen=pg.mkPen("#0d1117"), hoverable=True,
            tip=self._tip, name="SELL fill",
        )  # fmt: skip
        self.plot.addItem(self._buys)
        self.plot.addItem(self._sells)
        view = self.plot.getViewBox()
        view.setAutoVisible(y=True)
        view.sigRangeChangedManually.connect(self._stop_following)
        view.sigXRangeChanged.connect(self._x_range_changed)
        self._fills_span: tuple[float, float] | None = None  # the x-span whose fills the scatter holds
        self._limit_lines: list[pg.InfiniteLine] = []
        self._follow = True
        self.live = QPushButton("Back to live")
        self.live.setToolTip("Follow the live edge again (the view stays where a pan or zoom puts it)")
        self.live.clicked.connect(self.follow_live)
        self.live.setVisible(False)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.live)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.key)
        layout.addWidget(self.plot)
        self._timer = QTimer(self)
        self._timer.setInterval(SAMPLE_MS)
        self._timer.timeout.connect(self.sample)
        self._timer.start()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        follow_theme(self.use_theme)
        self.set_pair(self.pair)

    def use_theme(self, theme: Theme) -> None:
        """The plot paints its own colours: on a light desk, a light plot (Settings → theme)."""
        dark = theme.name == "dark"
        background = PLOT_BACKGROUND if dark else theme.base
        reference = COLORS["reference"] if dark else LIGHT_REFERENCE
        self.plot.setBackground(background)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(theme.muted))
            axis.setTextPen(pg.mkPen(theme.muted))
        self._reference.setPen(pg.mkPen(reference, width=1))
        self.key.setText(chart_key(reference))
        self.key.setStyleSheet(f"background:{background}; color:{theme.text}; padding:2px 6px;")

    def stop(self) -> None:
        self._timer.stop()

    def _stop_following(self, *_args: object) -> None:
        """The trader panned or zoomed: leave the view where they put it until they ask for live again."""
        self._follow = False
        self.live.setVisible(True)

    def follow_live(self) -> None:
        """Back to the live edge: the last few minutes, moving with the market."""
        self._follow = True
        self.live.setVisible(False)
        self.plot.getViewBox().enableAutoRange(axis=pg.ViewBox.YAxis)
        self._follow_now()

    def _follow_now(self) -> None:
        if self._follow:
            now = time.time()
            self.plot.setXRange(now - FOLLOW_WINDOW_S, now + 5, padding=0)

    def _tip(self, x: float, y: float, data: object) -> str:
        """A fill's tooltip, written when the pointer is over it (`data` is its row in the pair's fills)."""
        return self.model.tooltip(self.pair, int(data))  # type: ignore[call-overload]

    # -- inputs ---------------------------------------------------------------------------

    def set_pair(self, pair: str) -> None:
        """Follow the ticket's pair; its recent past is drawn at once."""
        name = pair.strip().upper()
        if self.engine.catalog.get(name) is None:
            return
        self.pair = name
        spec = self.engine.catalog[name]
        # Short, so the chart can give the account its width; the key below says which line is which.
        self.title.setText(f"{name} · {spec.quote} per {spec.base}, fees in")
        self._backfill()
        self.sample()
        self.redraw()
        self.follow_live()

    def apply(self, orders: Iterable[Order]) -> None:
        if self.model.apply(orders):
            self.schedule_redraw()

    def schedule_redraw(self) -> None:
        """Redraw soon, once for everything that changed meanwhile (a 300-order burst is not 300 redraws)."""
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def sample(self) -> None:
        """Read the market now for the pair on show."""
        self.model.add_sample(self.pair, self._read(self.engine.market_time(), time.time()))
        self._draw_curves()
        self._follow_now()

    def _read(self, market_time: float, x: float) -> Sample:
        spec = self.engine.catalog[self.pair]
        market = self.engine.router.market
        return Sample(
            x, market.reference(spec, market_time), {v: market.pool_price(spec, v, market_time) for v in Venue}
        )

    def _backfill(self) -> None:
        scale = self.engine.clock.time_scale
        if scale <= 0:
            return  # at time scale 0 the market only moves with orders: there is no past to draw
        now, market_now = time.time(), self.engine.market_time()
        steps = int(BACKFILL_S / BACKFILL_STEP_S)
        past = [
            self._read(market_now - k * BACKFILL_STEP_S / scale, now - k * BACKFILL_STEP_S) for k in range(1, steps)
        ]
        self.model.backfill(self.pair, past)

    # -- drawing --------------------------------------------------------------------------

    def redraw(self) -> None:
        self._redraw_timer.stop()
        self._draw_curves()
        self._draw_fills()
        self._draw_limits(self.model.limits(self.pair))

    def _draw_fills(self) -> None:
        """The fills in and around the view: the view's span and as much again on each side.

        Not every fill of the pair: after a trading day of 100,000 orders a pair has thousands,
        nearly all hours left of a live view, and pyqtgraph re-styles every point it is given —
        40–85 ms a redraw, four redraws a second while a burst streams (the window did not answer
        the window manager's ping for that long). A pan or zoom past the margin draws them afresh.
        """
        left, right = self.plot.getViewBox().viewRange()[0]
        width = max(right - left, 1.0)
        self._fills_span = (left - width, right + width)
        for item, side in ((self._buys, Direction.BUY), (self._sells, Direction.SELL)):
            xs, ys, rows = self.model.points(self.pair, side, self._fills_span)
            item.setData(x=xs, y=ys, data=rows)

    def _x_range_changed(self, _view: object, x_range: tuple[float, float]) -> None:
        """Following live moves the view a second at a time: fills are drawn again once it leaves their span."""
        span = self._fills_span
        if span is None or x_range[0] < span[0] or x_range[1] > span[1]:
            self._draw_fills()

    def _draw_curves(self) -> None:
        samples = self.model.samples(self.pair)
        xs = [s.x for s in samples]
        self._reference.setData(xs, [s.reference for s in samples])
        effective = [effective_prices(sample) for sample in samples]
        for key, curve in self._curves.items():
            curve.setData(xs, [prices[key] for prices in effective])

    def _draw_limits(self, limits: list[LimitLine]) -> None:
        for line in self._limit_lines:
            self.plot.removeItem(line)
        self._limit_lines = []
        for limit in limits:
            color = BUY_COLOR if limit.direction is Direction.BUY else SELL_COLOR
            line = pg.InfiniteLine(
                pos=limit.price, angle=0, pen=pg.mkPen(color, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                # Left-aligned near the left edge: centred at 12 % of the width, "limit SELL 2 ≥ 151.4"
                # lost its first letters under the price axis at 1366×768.
                label=limit.label, labelOpts={"position": 0.02, "anchors": [(0, 0), (0, 1)], "color": color,
                                              "fill": "#0d1117cc"},
            )  # fmt: skip
            self.plot.addItem(line)
            self._limit_lines.append(line)
