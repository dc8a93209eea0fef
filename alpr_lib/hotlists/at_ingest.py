"""Matching at ingest: no read becomes live without having been matched against every active entry.

The ingest gives :meth:`AlertsAtIngest.match` exactly the reads its batch will make live (on a thread of its
own while it writes the batch's files: matching and working out the alert rows overlap the writes);
:meth:`AlertsAtIngest.commit` writes the alerts inside the transaction that makes the batch live, beside
the ingest's audit record, so a crash leaves either the reads with their alerts or neither.
New alerts are then sent through the notification hook (:meth:`AlertsAtIngest.notify`)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from alpr_lib.config import Config
from alpr_lib.hotlists.encounters import AlertPlan, Recorded, plan_alerts, write_alerts
from alpr_lib.hotlists.matcher import HIT_SCHEMA, matcher_for
from alpr_lib.hotlists.notify import notify
from alpr_lib.records import Backend
from alpr_lib.records import alerts as alert_rows

__all__ = ["AlertsAtIngest"]


class AlertsAtIngest:
    """The hotlist side of one ingest (see the module docstring)."""

    def __init__(self, db: Backend, config: Config, store_key: str, now: datetime) -> None:
        self._db, self._config, self._key, self._now = db, config, store_key, now
        self.hits = pl.DataFrame(schema=HIT_SCHEMA)
        self.plan = AlertPlan()
        self.recorded = Recorded()

    def match(self, reads: pl.DataFrame) -> None:
        matcher = matcher_for(self._db, self._key)
        if matcher is not None:
            self.hits = matcher.match(reads, self._now)
            self.plan = plan_alerts(self._db, self.hits, now=self._now,
                                    window_min=self._config.alert_encounter_minutes)

    def commit(self, tx: Backend) -> Recorded:
        self.recorded = write_alerts(tx, self.plan)
        return self.recorded

    def notify(self) -> None:
        """After the commit: send the new alerts; what happened is kept on each alert."""
        if not self.recorded.raised or not (self._config.alert_webhook_url or self._config.alert_email_to):
            return
        outcome = notify(self._config, list(self.recorded.new))
        if outcome:
            with self._db.transaction() as tx:
                for alert in self.recorded.new:
                    alert_rows.update(tx, alert["alert_id"], {"notified": outcome})
