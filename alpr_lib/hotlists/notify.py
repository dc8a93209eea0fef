"""The notification hook: each new alert POSTed as JSON to the department's webhook and/or e-mailed.

The URL, the address and the SMTP server are department settings (records database, changed through the
audited ``settings.set``), never the environment. A notification is sent after the alert is committed; a
receiver that is down never loses an alert (it is in the store, and the dashboard lists it) and the alert
records what happened (``notified``)."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from alpr_lib.config import Config

__all__ = ["PAYLOAD_FIELDS", "notify"]

#: what leaves the store about an alert (enough to dispatch; the operator verifies in the workbench)
PAYLOAD_FIELDS = ("alert_id", "category", "priority", "plate", "entry_plate", "match_kind", "differing",
                  "state_flag", "stale", "list_name", "source", "camera_id", "captured_at", "lat", "lon")
TIMEOUT_S = 5.0


def _payload(alert: dict[str, Any]) -> dict[str, Any]:
    out = {k: alert.get(k) for k in PAYLOAD_FIELDS}
    out["stale"] = bool(out["stale"])
    out["verify_before_action"] = "policy 462.3(f): confirm through CLETS before any enforcement action"
    return out


def _post(url: str, alerts: list[dict[str, Any]]) -> None:
    for alert in alerts:
        body = json.dumps(_payload(alert)).encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # http(s) only: the setting is checked
            response.read()


def _mail(config: Config, alerts: list[dict[str, Any]]) -> None:
    host, _, port = str(config.alert_smtp_host).rpartition(":")
    if not host:
        host, port = str(config.alert_smtp_host), "25"
    with smtplib.SMTP(host, int(port or 25), timeout=TIMEOUT_S) as smtp:
        for alert in alerts:
            message = EmailMessage()
            message["Subject"] = (f"ALPR alert {alert['alert_id']}: {alert['category']} {alert['entry_plate']} "
                                  f"({alert['match_kind']})")
            message["From"] = "alpr-workbench@localhost"
            message["To"] = config.alert_email_to
            message.set_content(json.dumps(_payload(alert), indent=2))
            smtp.send_message(message)


def notify(config: Config, alerts: list[dict[str, Any]]) -> str | None:
    """Send ``alerts`` through every configured channel; returns what happened, for the alerts' record
    (None when no channel is configured)."""
    if not alerts:
        return None
    done = []
    if config.alert_webhook_url:
        try:
            _post(config.alert_webhook_url, alerts)
            done.append("webhook sent")
        except (OSError, ValueError) as exc:
            done.append(f"webhook failed: {str(exc)[:200]}")
    if config.alert_email_to:
        try:
            _mail(config, alerts)
            done.append("e-mail sent")
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            done.append(f"e-mail failed: {str(exc)[:200]}")
    return "; ".join(done) or None
