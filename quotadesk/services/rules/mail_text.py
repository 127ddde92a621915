"""What the desk's e-mails say: one editable template per kind, rendered in Jinja2's sandbox
(SPEC §9). Pure: values in, text out."""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from quotadesk.services.errors import InvalidValue

if TYPE_CHECKING:  # Jinja2 is imported when a template is first rendered: the window opens
    from jinja2.sandbox import SandboxedEnvironment  # a few hundredths of a second sooner

KINDS = ("alert", "request", "reminder", "statement")
#: What the outbox and `mail list` call each kind.
KIND_LABELS = {"alert": "Usage alert", "request": "Payment request", "reminder": "Reminder",
               "statement": "Statement"}

DEFAULTS: dict[str, dict[str, str]] = {
    "alert": {
        "subject": "{% if alert.kind == 'threshold' %}You have used {{ alert.state }} of your "
                   "{{ alert.resource }} for this period{% elif alert.kind == 'exhausted' %}"
                   "Your included {{ alert.resource }} are used up{% else %}Blocked: no "
                   "{{ alert.resource }} left for this period{% endif %}",
        "body": """Hello {{ client.name }},

{% if alert.kind == 'threshold' -%}
You have used {{ alert.state }} of the {{ alert.resource }} included in your plan for the period {{ period.start }} to {{ period.end }}.
{%- elif alert.kind == 'exhausted' -%}
The {{ alert.resource }} included in your plan for the period {{ period.start }} to {{ period.end }} are used up. Further usage draws on your add-on credits.
{%- else -%}
All your {{ alert.resource }} credits for the period {{ period.start }} to {{ period.end }} are used up, so sends are blocked until the next reset on {{ period.reset }}{% if alert.addons %} or until you purchase an add-on package (immediate){% endif %}.
{%- endif %}
{% if alert.addons %}
Need more before the period ends? Purchase an add-on package: its credits are available at once and carry over from month to month.
{% endif %}
Kind regards,
{{ agency.name or "Your provider" }}
""",
    },
    "request": {
        "subject": "Invoice {{ request.number }}: {{ request.amount }} {{ request.currency }} "
                   "due {{ request.due_date }}",
        "body": """Hello {{ client.name }},

Please find invoice {{ request.number }} for {{ request.description }}.

Amount: {{ request.amount }} {{ request.currency }}
Due date: {{ request.due_date }}
{%- if request.status == 'paid' %}
Status: paid, thank you.
{%- endif %}

Kind regards,
{{ agency.name or "Your provider" }}
""",
    },
    "reminder": {
        "subject": "Reminder: invoice {{ request.number }} was due {{ request.due_date }}",
        "body": """Hello {{ client.name }},

Our records show that invoice {{ request.number }} for {{ request.description }}, {{ request.amount }} {{ request.currency }}, due on {{ request.due_date }}, is still unpaid ({{ reminder.days_overdue }} days after its due date).

If you have already paid, please ignore this message.

Kind regards,
{{ agency.name or "Your provider" }}
""",
    },
    "statement": {
        "subject": "Your statement from {{ statement.start }} to {{ statement.end }}",
        "body": """Hello {{ client.name }},

Please find your statement for {{ statement.start }} to {{ statement.end }} attached.
Total still due: {{ statement.due }} {{ statement.currency }}.

Kind regards,
{{ agency.name or "Your provider" }}
""",
    },
}

#: A context with every variable a template may use, for checking a template when saved and
#: for the preview before a real client is picked.
SAMPLE: dict[str, Any] = {
    "client": {"name": "Atlas Plumbing", "email": "billing@atlas.example"},
    "agency": {"name": "Northwind Agency", "email": "desk@northwind.example",
               "address": "1 Harbour Road\nPortsmouth", "tax_id": "GB123456789"},
    "period": {"start": "2026-12-01", "end": "2026-12-31", "reset": "2027-01-01"},
    "alert": {"kind": "threshold", "resource": "SMS", "state": "80%", "percent": 80,
              "addons": True},
    "request": {"number": "INV-000042", "amount": "49.00", "currency": "USD",
                "due_date": "2026-12-15", "type": "Plan fee", "description": "Plan fee",
                "status": "pending"},
    "reminder": {"days": 3, "days_overdue": 3},
    "statement": {"start": "2026-11-01", "end": "2026-11-30", "due": "49.00",
                  "currency": "USD"},
}


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                keep_trailing_newline=True)


@lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    return _environment().from_string(source)


def render_part(source: str, context: Mapping[str, Any]) -> str:
    return str(_compiled(source).render(**context))


def check_template(key: str, kind: str, part: str, source: str) -> None:
    """Refuse a template that does not render (syntax, an unknown name, a forbidden
    attribute) on every shape of its kind's context."""
    from jinja2 import TemplateError

    for variant in _variants(kind):
        try:
            render_part(source, variant)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            where = f" (line {line})" if line else ""
            raise InvalidValue(f"{key}: the template does not render{where}: {error}", key) \
                from None
        except Exception as error:  # a sandboxed template cannot do harm, but can fail oddly
            raise InvalidValue(f"{key}: the template does not render: {error}", key) from None


def _variants(kind: str) -> list[dict[str, Any]]:
    if kind != "alert":
        return [SAMPLE]
    variants = []
    for alert_kind, state, addons in (("threshold", "80%", True), ("exhausted", "used up", True),
                                      ("blocked", "blocked", False)):
        variant = dict(SAMPLE)
        variant["alert"] = {**SAMPLE["alert"], "kind": alert_kind, "state": state,
                            "addons": addons}
        variants.append(variant)
    return variants


def render(templates: Mapping[str, str], context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one message."""
    subject = " ".join(render_part(templates["subject"], context).split())
    body = render_part(templates["body"], context).strip() + "\n"
    return subject, body, as_html(body)


def as_html(body: str) -> str:
    """The plain text as a simple HTML alternative: paragraphs and line breaks kept."""
    paragraphs = [p for p in body.strip().split("\n\n") if p.strip()]
    inner = "\n".join("<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
                      for p in paragraphs)
    return ("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; font-size: 14px; "
            "line-height: 1.5; color: #1f2933\">\n" + inner + "\n</body></html>\n")


RESOURCE_WORDS = {"minutes": "voice minutes", "sms": "SMS", "email": "email credits"}


def alert_state(kind: str, threshold: int | None) -> str:
    """How the alert says where usage stands: "80%", "used up" or "blocked"."""
    if kind == "threshold":
        return f"{threshold}%"
    return "used up" if kind == "exhausted" else "blocked"
