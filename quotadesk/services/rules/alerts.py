"""What a usage alert says to the client (seed 002: "You'll receive automatic email alerts at
80% and 95% usage")."""

from __future__ import annotations


def alert_email(client: str, resource: str, kind: str, threshold: int | None) -> tuple[str, str]:
    word = {"minutes": "voice minutes", "sms": "SMS", "email": "email"}[resource]
    if kind == "threshold":
        subject = f"You have used {threshold}% of your monthly {word} allowance"
        body = (f"Hello {client},\n\nYou have used {threshold}% of the {word} included in your "
                "plan this period. Add-on packages can be purchased from your provider.")
    elif kind == "exhausted":
        subject = f"Your monthly {word} allowance is used up"
        body = (f"Hello {client},\n\nThe {word} included in your plan this period are used up. "
                "Further usage draws on your add-on credits.")
    else:
        subject = {"minutes": "Calls are blocked: no voice minutes left",
                   "sms": "SMS sends are blocked",
                   "email": "Email sends are blocked"}[resource]
        body = (f"Hello {client},\n\nAll your {word} credits are used up, so sends are blocked "
                "until the next monthly reset or until you purchase an add-on package.")
    return subject, body + "\n"
