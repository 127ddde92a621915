"""The mail templates (SPEC §9): defaults in seed 002's voice, the sandbox, the HTML part."""

from __future__ import annotations

import pytest

from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules import mail_text
from quotadesk.services.rules.mail_text import DEFAULTS, SAMPLE, alert_state, as_html, render


def alert(kind: str, state: str, addons: bool = True) -> dict:
    return {**SAMPLE, "alert": {**SAMPLE["alert"], "kind": kind, "state": state,
                                "addons": addons}}


@pytest.mark.parametrize(("kind", "threshold", "state"), [
    ("threshold", 80, "80%"), ("threshold", 95, "95%"), ("exhausted", None, "used up"),
    ("blocked", None, "blocked")])
def test_alert_state_words(kind, threshold, state):
    assert alert_state(kind, threshold) == state


def test_the_default_alert_names_resource_state_period_and_the_add_on_package():
    subject, body, html = render(DEFAULTS["alert"], alert("threshold", "95%"))
    assert subject == "You have used 95% of your SMS for this period"
    assert "95% of the SMS included in your plan for the period 2026-12-01 to 2026-12-31" in body
    assert "Purchase an add-on package" in body
    assert body.startswith("Hello Atlas Plumbing,") and body.endswith("Northwind Agency\n")
    assert "<p>Hello Atlas Plumbing,</p>" in html


def test_the_blocked_alert_says_only_what_is_true_without_add_ons():
    _, with_addons, _ = render(DEFAULTS["alert"], alert("blocked", "blocked", True))
    subject, without, _ = render(DEFAULTS["alert"], alert("blocked", "blocked", False))
    assert subject == "Blocked: no SMS left for this period"
    assert "until the next reset on 2027-01-01 or until you purchase an add-on package" \
        in with_addons
    assert "add-on" not in without.lower()


def test_the_default_request_names_number_amount_and_due_date():
    subject, body, _ = render(DEFAULTS["request"], SAMPLE)
    assert subject == "Invoice INV-000042: 49.00 USD due 2026-12-15"
    assert "Amount: 49.00 USD\nDue date: 2026-12-15\n" in body


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ client.__class__ }}",
    "{{ undefined_name }}",
    "{% for x in %}",
    "{{ request.amount | nonexistent_filter }}",
])
def test_a_template_that_does_not_render_is_refused_naming_the_key(source):
    with pytest.raises(InvalidValue) as refused:
        mail_text.check_template("template.request.body", "request", "body", source)
    assert refused.value.field == "template.request.body"
    assert "does not render" in refused.value.message


def test_every_default_renders_for_every_shape_of_its_kind():
    for kind in mail_text.KINDS:
        for part in ("subject", "body"):
            mail_text.check_template(f"template.{kind}.{part}", kind, part, DEFAULTS[kind][part])


def test_the_html_part_escapes_what_the_text_says():
    html = as_html("Hello <b>&</b>\nline two\n\nnext")
    assert "<p>Hello &lt;b&gt;&amp;&lt;/b&gt;<br>\nline two</p>" in html
    assert "<p>next</p>" in html
