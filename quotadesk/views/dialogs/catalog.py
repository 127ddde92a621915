"""Catalog editors: billing plans (every SPEC plan field) and add-on packs. A refused save
shows its message beside the field the service named, and keeps what was typed."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import catalog
from quotadesk.services.results import PackInfo, PlanInfo
from quotadesk.services.rules.money import money_text
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.subscription import addons_text
from quotadesk.views.formatting import RESOURCES, resource_label
from quotadesk.views.tables import DeskRowModel, RowFilterProxy, RowModel, fit_columns, make_table
from quotadesk.views.widgets import FormDialog, Notice, section_title


class PlanListModel(DeskRowModel[PlanInfo]):
    Column = IntEnum("Column", "NAME FEE ADDONS", start=0)

    numeric = frozenset({Column.FEE})

    def headers(self) -> list[str]:
        return [self.tr("Plan"), self.tr("Fee"), self.tr("Add-ons")]

    def display(self, p: PlanInfo, column: int) -> str:
        return [p.name, self.ctx.fmt.money(p.fee), self.tr("On") if p.addons
                else self.tr("Off")][column]

    def raw(self, p: PlanInfo, column: int) -> Any:
        return [p.name.casefold(), p.fee, p.addons][column]


class PackListModel(DeskRowModel[PackInfo]):
    Column = IntEnum("Column", "NAME RESOURCE UNITS PRICE VALIDITY", start=0)

    numeric = frozenset({Column.UNITS, Column.PRICE})

    def headers(self) -> list[str]:
        return [self.tr("Pack"), self.tr("Resource"), self.tr("Units"), self.tr("Price"),
                self.tr("Validity")]

    def display(self, p: PackInfo, column: int) -> str:
        fmt = self.ctx.fmt
        name = p.name + (" " + self.tr("(archived)") if p.archived else "")
        validity = (self.tr("Never expires") if p.expires_months is None
                    else self.tr("{n} months").format(n=p.expires_months))
        return [name, resource_label(p.resource), fmt.qty(p.units), fmt.money(p.price),
                validity][column]

    def raw(self, p: PackInfo, column: int) -> Any:
        return [p.name.casefold(), p.resource, p.units, p.price,
                p.expires_months if p.expires_months is not None else 10**6][column]

    def tone(self, p: PackInfo, column: int) -> str:
        return "muted" if p.archived else ""


class _CatalogDialog(FormDialog):
    """A list of catalog items on the left, the selected (or new) item's form on the right."""

    def __init__(self, ctx: DeskContext, title: str, model: RowModel[Any], list_name: str,
                 new_text: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, title, parent)
        self.model = model
        self.current: Any = None
        body = QHBoxLayout()
        body.setSpacing(16)
        left = QVBoxLayout()
        self.view = make_table(model, list_name, stretch=0)
        self.view.setMinimumWidth(380)
        left.addWidget(self.view, 1)
        self.left_tools = QHBoxLayout()
        self.new_button = QPushButton(new_text)
        self.new_button.setAccessibleName(new_text.replace("&", ""))
        self.left_tools.addWidget(self.new_button)
        self.left_tools.addStretch(1)
        left.addLayout(self.left_tools)
        body.addLayout(left, 2)
        right = QVBoxLayout()
        self.heading = section_title("")
        right.addWidget(self.heading)
        right.addLayout(self.form)
        self.saved_notice = Notice("success")
        self.saved_notice.hide()
        right.addWidget(self.saved_notice)
        right.addStretch(1)
        body.addLayout(right, 3)
        self.layout_.addLayout(body, 1)
        self.new_button.clicked.connect(self.new_item)
        self.view.selectionModel().currentRowChanged.connect(self._picked)

    def proxy(self) -> RowFilterProxy:
        proxy = self.view.model()
        assert isinstance(proxy, RowFilterProxy)
        return proxy

    def reload(self, select_id: int | None = None) -> None:
        raise NotImplementedError

    def _loaded(self, rows: list[Any], select_id: int | None) -> None:
        self.model.set_rows(rows)
        if select_id is not None:
            number = self.model.row_of(select_id)
            if number is not None:
                index = self.proxy().mapFromSource(self.model.index(number, 0))
                self.view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)

    def _picked(self, current: Any, _previous: Any) -> None:
        item = self.proxy().row_at(current.row()) if current.isValid() else None
        if item is None:
            return
        if self.current is None or item.id != self.current.id:
            self.clear_errors()
            self.saved_notice.hide()
        self.fill(item)

    def new_item(self) -> None:
        self.view.selectionModel().clearSelection()
        self.clear_errors()
        self.saved_notice.hide()
        self.fill(None)

    def fill(self, item: Any) -> None:
        raise NotImplementedError

    def saved(self, item: Any, text: str) -> None:
        self.fill(item)
        self.saved_notice.set("", text)
        self.saved_notice.show()
        self.reload(item.id)


class PlansDialog(_CatalogDialog):
    """Billing plans: name, fee, anchor, allowances, overage rates, add-ons, due days, alerts."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Billing plans"), PlanListModel(ctx), self.tr("Plans"),
                         self.tr("&New plan"), parent)
        self.setObjectName("plansDialog")
        self.name = QLineEdit()
        self.name.setObjectName("planName")
        self.fee = QLineEdit()
        self.fee.setObjectName("planFee")
        self.fee.setPlaceholderText(self.tr("e.g. 49.00"))
        self.anchor = QComboBox()
        self.anchor.setObjectName("planAnchor")
        self.anchor.addItem(self.tr("Calendar: periods start on the 1st"), "calendar")
        self.anchor.addItem(self.tr("Anniversary: on the subscription's day"), "anniversary")
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("fee", self.tr("&Fee per period"), self.fee)
        self.add_field("anchor", self.tr("Period &anchor"), self.anchor)
        self.included: dict[str, QLineEdit] = {}
        self.overage: dict[str, QLineEdit] = {}
        for r in RESOURCES:
            edit = QLineEdit()
            edit.setObjectName(f"included_{r}")
            edit.setPlaceholderText("0")
            self.included[r] = edit
            self.add_field(f"included {r}", self.tr("Included {resource}").format(
                resource=resource_label(r)), edit)
        for r in RESOURCES:
            edit = QLineEdit()
            edit.setObjectName(f"overage_{r}")
            edit.setPlaceholderText(self.tr("none: blocked when free units run out"))
            self.overage[r] = edit
            self.add_field(f"overage {r}", self.tr("Overage rate, {resource}").format(
                resource=resource_label(r)), edit)
        self.addons = QCheckBox(addons_text(True))
        self.addons.setObjectName("planAddons")
        self.addons.setChecked(True)
        self.addons.toggled.connect(lambda on: self.addons.setText(addons_text(on)))
        self.add_field("addons", self.tr("Add-on packs"), self.addons, self.tr(
            "Applies at once to the plan's current subscribers too (their Addon Packs tab "
            "follows on the next refresh)."))
        self.due_days = QSpinBox()
        self.due_days.setObjectName("planDueDays")
        self.due_days.setRange(0, 365)
        self.due_days.setValue(1)
        self.due_days.setSuffix(self.tr(" day(s)"))
        self.add_field("due_days", self.tr("Payment due after period start"), self.due_days)
        self.alerts = QLineEdit("80, 95")
        self.alerts.setObjectName("planAlerts")
        self.add_field("alerts", self.tr("Usage &alerts (%)"), self.alerts)
        self.increments = QLineEdit("1/1")
        self.increments.setObjectName("planIncrements")
        self.increments.setPlaceholderText("1/1")
        self.add_field("increments", self.tr("Voice billing &increments"), self.increments,
                       self.tr("FIRST/NEXT seconds for calls imported in seconds: 60/60 bills "
                               "whole minutes, 30/6 a first 30 s then 6 s steps."))
        self.finish_layout(self.tr("Save plan"), cancel_text=self.tr("Close"), place_form=False)
        fit_columns(self.view, {0: 170, 1: 90})
        self.resize(900, 640)
        self.new_item()
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        desk = self.ctx.desk
        self.ctx.run_op(self, lambda: catalog.list_plans(desk),
                        lambda rows: self._loaded(rows, select_id), latest="plans",
                        label=self.tr("Loading plans"))

    def fill(self, plan: PlanInfo | None) -> None:
        self.current = plan
        self.heading.setText(plan.name if plan else self.tr("New plan"))
        self.name.setText(plan.name if plan else "")
        self.fee.setText(money_text(plan.fee, self.ctx.fmt.currency) if plan else "")
        self.anchor.setCurrentIndex(max(0, self.anchor.findData(plan.anchor if plan
                                                                else "calendar")))
        for r in RESOURCES:
            inc = plan.included.get(r) if plan else None
            self.included[r].setText(format(inc, "f") if inc is not None else "")
            rate = plan.overage.get(r) if plan else None
            self.overage[r].setText(format(rate, "f") if rate is not None else "")
        self.addons.setChecked(plan.addons if plan else True)
        self.due_days.setValue(plan.due_days if plan else 1)
        self.alerts.setText(", ".join(map(str, plan.alerts)) if plan else "80, 95")
        self.increments.setText("{}/{}".format(*plan.increments) if plan else "1/1")
        if self.accept_button is not None:
            self.accept_button.setText(self.tr("Save plan") if plan else self.tr("Add plan"))
        self.name.setFocus()

    def submit(self) -> None:
        desk, plan = self.ctx.desk, self.current
        values: dict[str, Any] = {
            "name": self.name.text(), "fee": self.fee.text(),
            "anchor": self.anchor.currentData(), "addons": self.addons.isChecked(),
            "due_days": self.due_days.value(), "alerts": self.alerts.text(),
            "increments": self.increments.text().strip() or "1/1"}
        if plan is None:
            values["included"] = {r: e.text() for r, e in self.included.items() if e.text().strip()}
            values["overage"] = {r: e.text() for r, e in self.overage.items() if e.text().strip()}

            def fn() -> PlanInfo:
                return catalog.add_plan(desk, **values)
        else:
            # Editing: a blank allowance is 0 and a blank rate removes the rate.
            values["included"] = {r: e.text().strip() or "0" for r, e in self.included.items()}
            values["overage"] = {r: e.text().strip() for r, e in self.overage.items()}
            plan_id = plan.id

            def fn() -> PlanInfo:
                return catalog.edit_plan(desk, plan=plan_id, **values)

        self.run(fn, lambda info: self.saved(info, self.tr(
            "Plan “{name}” saved. Existing subscriptions keep their snapshot; the add-on "
            "setting applies to them at once.").format(
            name=info.name)))



class PacksDialog(_CatalogDialog):
    """Add-on packs: name, resource, units, price, validity (never / N months), description."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Add-on packs"), PackListModel(ctx),
                         self.tr("Add-on packs"), self.tr("&New pack"), parent)
        self.setObjectName("packsDialog")
        self.show_archived = QCheckBox(self.tr("Show &archived"))
        self.show_archived.setAccessibleName(self.tr("Show archived packs"))
        self.left_tools.addWidget(self.show_archived)
        self.name = QLineEdit()
        self.name.setObjectName("packName")
        self.resource = QComboBox()
        self.resource.setObjectName("packResource")
        for r in RESOURCES:
            self.resource.addItem(resource_label(r), r)
        self.units = QLineEdit()
        self.units.setObjectName("packUnits")
        self.units.setPlaceholderText(self.tr("e.g. 100"))
        self.price = QLineEdit()
        self.price.setObjectName("packPrice")
        self.price.setPlaceholderText(self.tr("e.g. 15.00"))
        validity = QWidget()
        row = QHBoxLayout(validity)
        row.setContentsMargins(0, 0, 0, 0)
        self.never = QRadioButton(self.tr("Never expires"))
        self.never.setObjectName("packNever")
        self.expires = QRadioButton(self.tr("Expires after"))
        self.expires.setObjectName("packExpires")
        group = QButtonGroup(self)
        group.addButton(self.never)
        group.addButton(self.expires)
        self.months = QSpinBox()
        self.months.setObjectName("packMonths")
        self.months.setRange(1, 1200)
        self.months.setValue(12)
        self.months.setSuffix(self.tr(" months"))
        self.months.setAccessibleName(self.tr("Months of validity"))
        row.addWidget(self.never)
        row.addWidget(self.expires)
        row.addWidget(self.months)
        row.addStretch(1)
        self.never.setChecked(True)
        self.description = QPlainTextEdit()
        self.description.setObjectName("packDescription")
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(80)
        self.archived = QCheckBox(self.tr("Archived (no longer offered; history keeps it)"))
        self.archived.setObjectName("packArchived")
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("resource", self.tr("&Resource"), self.resource)
        self.add_field("units", self.tr("&Units"), self.units)
        self.add_field("price", self.tr("&Price"), self.price)
        self.add_field("expires_months", self.tr("&Validity"), validity)
        validity.setAccessibleName(self.tr("Validity"))
        self.add_field("description", self.tr("&Description"), self.description)
        self.add_field("archived", self.tr("Catalog"), self.archived)
        self.finish_layout(self.tr("Save pack"), cancel_text=self.tr("Close"), place_form=False)
        fit_columns(self.view, {0: 160, 1: 70, 2: 60, 3: 70})
        self.view.setMinimumWidth(610)  # every column whole, "Never expires" included
        self.never.toggled.connect(lambda on: self.months.setEnabled(not on))
        self.show_archived.toggled.connect(lambda _on: self.reload())
        self.resize(1180, 600)
        self.new_item()
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        desk, archived = self.ctx.desk, self.show_archived.isChecked()
        self.ctx.run_op(self, lambda: catalog.list_packs(desk, include_archived=archived),
                        lambda rows: self._loaded(rows, select_id), latest="packs",
                        label=self.tr("Loading add-on packs"))

    def fill(self, pack: PackInfo | None) -> None:
        self.current = pack
        self.heading.setText(pack.name if pack else self.tr("New add-on pack"))
        self.name.setText(pack.name if pack else "")
        self.resource.setCurrentIndex(max(0, self.resource.findData(pack.resource if pack
                                                                    else "minutes")))
        self.resource.setEnabled(pack is None)  # a pack's resource never changes
        self.units.setText(format(pack.units, "f") if pack else "")
        self.price.setText(money_text(pack.price, self.ctx.fmt.currency) if pack else "")
        never = pack is None or pack.expires_months is None
        self.never.setChecked(never)
        self.expires.setChecked(not never)
        self.months.setEnabled(not never)
        self.months.setValue(pack.expires_months if pack and pack.expires_months else 12)
        self.description.setPlainText(pack.description if pack else "")
        self.archived.setChecked(bool(pack and pack.archived))
        self.archived.setEnabled(pack is not None)
        if self.accept_button is not None:
            self.accept_button.setText(self.tr("Save pack") if pack else self.tr("Add pack"))
        self.name.setFocus()

    def submit(self) -> None:
        desk, pack = self.ctx.desk, self.current
        name, units, price = self.name.text(), self.units.text(), self.price.text()
        months = None if self.never.isChecked() else self.months.value()
        description = self.description.toPlainText()
        if pack is None:
            resource = self.resource.currentData()

            def fn() -> PackInfo:
                return catalog.add_pack(desk, name=name, resource=resource, units=units,
                                        price=price, expires_months=months,
                                        description=description)
        else:
            pack_id, archived = pack.id, self.archived.isChecked()

            def fn() -> PackInfo:
                return catalog.edit_pack(desk, pack=pack_id, name=name, units=units, price=price,
                                         expires_months=months, description=description,
                                         archived=archived)

        self.run(fn, lambda info: self.saved(info, self.tr(
            "Pack “{name}” saved. Lots already credited keep their units and expiry.").format(
            name=info.name)))
