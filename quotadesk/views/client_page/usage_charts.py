"""The client page's Usage charts tab, drawn with QtCharts (PySide6-Addons; in the bundle it
costs QtCharts.abi3.so and libQt6Charts.so.6, about 3.3 MB: the OpenGL and Widgets libraries
it needs are there already): usage per day in the current period against the included
allowance, and per period for the last 12 split included / wallet / overage / unserved."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from quotadesk.services import usage_charts
from quotadesk.services.client_page import ClientPageData
from quotadesk.services.usage_charts import UsageCharts
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import RESOURCES, resource_label, unit_word
from quotadesk.views.widgets import Notice, column_layout, plain_label, scroll_content

try:  # PySide6-Addons: without it the tab says so instead of drawing
    from PySide6.QtCharts import (
        QBarCategoryAxis,
        QBarSeries,
        QBarSet,
        QCategoryAxis,
        QChart,
        QChartView,
        QLineSeries,
        QStackedBarSeries,
        QValueAxis,
    )

    CHARTS = True
except ImportError:  # pragma: no cover - the bundle and the test venv have it
    CHARTS = False

SPLIT_COLOURS = (("Included", "#2457c5"), ("Wallet", "#1a7f37"), ("Overage", "#f0b43c"),
                 ("Unserved", "#d92d20"))


def _number(value: Decimal) -> float:
    """A chart's coordinate (drawing only: every figure the desk says stays a Decimal)."""
    return float(value)


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setBackgroundRoundness(6)
    return chart


def _count_axis(top: Decimal) -> QValueAxis:
    """A vertical axis from 0 to a little above `top`, whole numbers on its ticks."""
    axis = QValueAxis()
    axis.setLabelFormat("%.0f")
    axis.setRange(0, max(_number(top) * 1.1, 5.0))
    axis.applyNiceNumbers()
    return axis


class UsageChartsTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("usageChartsTab")
        self.loaded: UsageCharts | None = None
        inner = QWidget()
        layout = column_layout(inner, 16, 10)
        top = QHBoxLayout()
        caption = QLabel(self.tr("&Resource"))
        self.resource = QComboBox()
        self.resource.setObjectName("chartResource")
        self.resource.setAccessibleName(self.tr("Resource"))
        for r in RESOURCES:
            self.resource.addItem(resource_label(r), r)
        caption.setBuddy(self.resource)
        top.addWidget(caption)
        top.addWidget(self.resource)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.error)
        self.missing = Notice("info", self.tr("Charts are not available"), self.tr(
            "This installation has no QtCharts (PySide6-Addons)."))
        self.missing.setVisible(not CHARTS)
        layout.addWidget(self.missing)
        self.empty = plain_label("", wrap=True, name="hint")
        layout.addWidget(self.empty)
        #: The two chart views, made when the first charts arrive: an empty chart still
        #: lays itself out, a few hundredths of a second of the window's start.
        self.day_view = self.period_view = None
        self._charts_layout = layout
        # In a scroll area: two charts' height never sets the window's smallest size.
        scroll_content(self, inner)
        self.resource.currentIndexChanged.connect(self.reload)

    def render(self, data: ClientPageData) -> None:
        first = self.data is None or self.data.client_id != data.client_id
        super().render(data)
        if first:
            usage = data.detail.resources
            busy = next((r for r in RESOURCES if usage[r].included or usage[r].included_used
                         or usage[r].wallet), RESOURCES[0])
            self.resource.blockSignals(True)
            self.resource.setCurrentIndex(self.resource.findData(busy))
            self.resource.blockSignals(False)
        self.reload()

    def reload(self, *_args: object) -> None:
        desk, data = self.ctx.desk, self.data
        if desk is None or data is None or not CHARTS:
            return
        client_id, resource = data.client_id, self.resource.currentData()
        self.ctx.run_op(self, lambda: usage_charts.usage_charts(desk, client_id, resource),
                        self.show_charts, latest="usage-charts",
                        label=self.tr("Loading the usage charts"))

    def _make_views(self) -> tuple[QChartView, QChartView]:
        def chart_view(name: str, accessible: str) -> QChartView:
            view = QChartView()
            view.setObjectName(name)
            view.setAccessibleName(accessible)
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(230)
            self._charts_layout.addWidget(view, 1)
            return view

        if self.day_view is None or self.period_view is None:
            self.day_view = chart_view("dailyUsageChart", self.tr("Usage per day this period"))
            self.period_view = chart_view("periodUsageChart", self.tr("Usage per period"))
        return self.day_view, self.period_view

    def show_charts(self, charts: UsageCharts) -> None:
        self.loaded = charts
        day_view, period_view = self._make_views()
        unit = unit_word(charts.resource)
        self.empty.setText(self.tr("No current period: the client has no active subscription.")
                           if not charts.days else "")
        self.empty.setVisible(not charts.days)
        day_view.setChart(self._daily(charts, unit))
        period_view.setChart(self._periods(charts, unit))

    def _daily(self, charts: UsageCharts, unit: str) -> QChart:
        chart = _chart(self.tr("Usage per day this period ({unit})").format(unit=unit))
        used = QBarSet(self.tr("Used that day"))
        used.setColor(QColor("#2457c5"))
        running = QLineSeries()
        running.setName(self.tr("Used so far"))
        allowance = QLineSeries()
        allowance.setName(self.tr("Included allowance"))
        allowance.setPen(QPen(QColor("#d92d20"), 2, Qt.PenStyle.DashLine))
        total = Decimal(0)
        # Days on a value axis labelled at the 1st and every 5th: 31 day numbers in a narrow
        # pane would be elided to "…".
        x = QCategoryAxis()
        x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        x.setRange(-0.5, max(len(charts.days), 1) - 0.5)
        for i, day in enumerate(charts.days):
            total += day.total
            used.append(_number(day.total))
            if charts.today is None or day.label <= charts.today:  # not into the future
                running.append(i, _number(total))
            allowance.append(i, _number(charts.allowance))
            if i == 0 or day.label.day % 5 == 0:
                x.append(day.label.strftime("%d %b") if i == 0 else str(day.label.day), i)
        bars = QBarSeries()
        bars.append(used)
        for series in (bars, running, allowance):
            chart.addSeries(series)
        y = _count_axis(max(total, charts.allowance))
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        for series in (bars, running, allowance):
            series.attachAxis(x)
            series.attachAxis(y)
        return chart

    def _periods(self, charts: UsageCharts, unit: str) -> QChart:
        chart = _chart(self.tr("Usage per period, last 12 ({unit})").format(unit=unit))
        series = QStackedBarSeries()
        names = {"Included": self.tr("Included"), "Wallet": self.tr("Wallet"),
                 "Overage": self.tr("Overage"), "Unserved": self.tr("Unserved")}
        for name, colour in SPLIT_COLOURS:
            bar = QBarSet(names[name])
            bar.setColor(QColor(colour))
            for period in charts.periods:
                bar.append(_number(getattr(period, name.lower())))
            series.append(bar)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([p.label.strftime("%Y-%m") for p in charts.periods])
        y = _count_axis(max((p.total for p in charts.periods), default=Decimal(0)))
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        return chart
