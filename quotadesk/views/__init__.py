"""Qt widgets, table models and dialogs of the QuotaDesk window; no SQL, services only."""

from quotadesk.views.qt_compat import guard_binding_refcounts, quicken_feature_check

guard_binding_refcounts()
quicken_feature_check()
