"""Alert verification before enforcement (policy 462.3(f)), sources (462.3(e)), the notification hook, figures,
and removal with purged reads."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

import alpr_lib as alpr
from alpr_lib.records import alerts as alert_rows
from alpr_lib.store.store import Store
from tests.hotlists.conftest import reads, recent, write_list


def _ingest(kit, rows, prefix="R"):
    return kit.login("ingest").ingest_reads(reads(rows, prefix=prefix), progress=False)


def _records(kit, action):
    store = Store.open(kit.path)
    try:
        return [r for r in store.audit.rows() if r["action"] == action]
    finally:
        store.close()


def _two_alerts(hot) -> tuple[str, str]:
    _ingest(hot, [("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM2", recent(1))])
    got = hot.login("operator").alerts.list().sort("plate")
    return got["alert_id"][0], got["alert_id"][1]


def test_verify_then_dispose_and_each_step_is_audited(hot):
    first, _ = _two_alerts(hot)
    op = hot.login("operator")
    done = op.alerts.verify(first, "CLETS-2026-0042", vehicle_matches=True, vehicle_description="grey Honda Civic")
    assert done["status"] == "verified" and done["verified_by"] == "operator" and done["clets_ref"] == "CLETS-2026-0042"
    assert done["vehicle_matches"] == 1 and done["verified_at"]
    done = op.alerts.dispose(first, "recovery", note="vehicle towed")
    assert done["disposition"] == "recovery" and done["disposed_by"] == "operator"
    store = Store.open(hot.path)
    assert alert_rows.get(store.db, first)["status"] == "verified"
    store.close()
    record = _records(hot, "alerts.verify")[-1]
    assert record["outcome"] == "allowed" and json.loads(record["query"])["clets_ref"] == "CLETS-2026-0042"
    assert json.loads(_records(hot, "alerts.dispose")[-1]["query"])["disposition"] == "recovery"
    with pytest.raises(alpr.ValidationError, match="already verified"):
        op.alerts.verify(first, "CLETS-2")
    with pytest.raises(alpr.ValidationError, match="already has the disposition"):
        op.alerts.dispose(first, "arrest")


def test_a_disposition_before_verification_is_refused_and_audited(hot):
    first, second = _two_alerts(hot)
    op = hot.login("operator")
    with pytest.raises(alpr.AccessDenied, match=r"not verified.*462\.3\(f\)"):
        op.alerts.dispose(first, "arrest")
    record = _records(hot, "alerts.dispose")[-1]
    assert record["outcome"] == "denied" and json.loads(record["query"])["status"] == "new"
    op.alerts.reject(second, "misread", note="plate reads 8DPR244")
    with pytest.raises(alpr.AccessDenied, match="rejected, not verified"):
        op.alerts.dispose(second, "stop made")
    store = Store.open(hot.path)
    assert alert_rows.get(store.db, first)["disposition"] is None
    store.close()


def test_verification_needs_a_clets_reference_and_a_matching_vehicle(hot):
    first, _ = _two_alerts(hot)
    op = hot.login("operator")
    with pytest.raises(alpr.ValidationError, match="clets_ref is required"):
        op.alerts.verify(first, "  ")
    with pytest.raises(alpr.ValidationError, match="vehicle mismatch"):
        op.alerts.verify(first, "CLETS-1", vehicle_matches=False)
    with pytest.raises(alpr.ValidationError, match=r"note is required"):
        op.alerts.reject(first, "other")
    assert op.alerts.reject(first, "vehicle mismatch")["rejected_reason"] == "vehicle mismatch"
    with pytest.raises(alpr.ValidationError, match="must be one of"):
        op.alerts.reject(first, "bored")


def test_alerts_are_seen_only_from_granted_sources(kit, tmp_path):
    from tests.hotlists.conftest import add_operator
    add_operator(kit)
    sup = kit.login("supervisor")
    sup.hotlists.import_list(write_list(tmp_path / "d.csv", ["7ABC123,CA,stolen vehicle,2026-01-01,,"]), "d",
                             "department")
    sup.hotlists.import_list(write_list(tmp_path / "f.csv", ["8DPR224,CA,stolen plate,2026-01-01,,"]), "f", "federal")
    _ingest(kit, [("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM2", recent(1))])
    kit.login("admin").hotlists.revoke("operator", ["federal"])
    op = kit.login("operator")
    assert op.alerts.list()["source"].to_list() == ["department"]
    federal = sup.alerts.list().filter(alpr_col("source") == "federal")["alert_id"][0]
    for attempt in (lambda: op.alerts.get(federal), lambda: op.alerts.verify(federal, "CLETS-9")):
        with pytest.raises(alpr.AccessDenied, match="not authorised for federal"):
            attempt()
    refused = [r for r in _records(kit, "alerts.get") + _records(kit, "alerts.verify") if r["outcome"] == "denied"]
    assert len(refused) == 2 and {r["username"] for r in refused} == {"operator"}
    with pytest.raises(alpr.AccessDenied, match="may not"):
        kit.login("analyst").alerts.list()


def alpr_col(name):
    import polars as pl
    return pl.col(name)


class _Receiver(BaseHTTPRequestHandler):
    posts: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_new_alerts_are_posted_to_the_department_webhook(hot):
    _Receiver.posts = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hot.login("admin").admin.set_setting("alert_webhook_url", f"http://127.0.0.1:{server.server_port}/alpr")
        _ingest(hot, [("5SAM781", "NV", "CAM1", recent()), ("5SAM781", "NV", "CAM1", recent(1))])
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Receiver.posts) == 1  # one encounter, one notification
    post = _Receiver.posts[0]
    assert post["category"] == "AMBER" and post["plate"] == "5SAM781" and post["priority"] == 1
    assert "462.3(f)" in post["verify_before_action"]
    alert = hot.login("operator").alerts.list().row(0, named=True)
    assert alert["notified"] == "webhook sent"
    with pytest.raises(alpr.AlprError, match="http"):
        hot.login("admin").admin.set_setting("alert_webhook_url", "file:///etc/passwd")


def _smtp_receiver() -> tuple[socket.socket, list[bytes], threading.Thread]:
    """A tiny SMTP server on 127.0.0.1 that accepts every message (enough for smtplib)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    messages: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        stream = conn.makefile("rb")
        conn.sendall(b"220 test ESMTP\r\n")
        while line := stream.readline():
            word = line.split(b" ")[0].strip().upper()
            if word in (b"EHLO", b"HELO"):
                conn.sendall(b"250 test\r\n")
            elif word == b"DATA":
                conn.sendall(b"354 go on\r\n")
                body = b""
                while (chunk := stream.readline()) != b".\r\n":
                    body += chunk
                messages.append(body)
                conn.sendall(b"250 queued\r\n")
            elif word == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"250 ok\r\n")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, messages, thread


def test_new_alerts_are_emailed_through_the_department_smtp_server(hot):
    listener, messages, thread = _smtp_receiver()
    admin = hot.login("admin")
    admin.admin.set_setting("alert_smtp_host", f"127.0.0.1:{listener.getsockname()[1]}")
    admin.admin.set_setting("alert_email_to", "dispatch@milpitas.example")
    _ingest(hot, [("8DPR224", "CA", "CAM1", recent())])
    thread.join(10)
    listener.close()
    assert len(messages) == 1 and b"8DPR224" in messages[0] and b"dispatch@milpitas.example" in messages[0]
    assert hot.login("operator").alerts.list()["notified"][0] == "e-mail sent"


def test_a_receiver_that_is_down_loses_no_alert(hot):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    hot.login("admin").admin.set_setting("alert_webhook_url", f"http://127.0.0.1:{port}/")
    report = _ingest(hot, [("8DPR224", "CA", "CAM1", recent())])
    assert report.alerts_raised == 1
    assert hot.login("operator").alerts.list()["notified"][0].startswith("webhook failed")


def test_figures(hot):
    _ingest(hot, [("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM2", recent(1)),
                  ("5SAM781", "NV", "CAM3", recent(2)), ("7A8C123", "CA", "CAM4", recent(3))])
    op = hot.login("operator")
    ids = {r["plate"]: r["alert_id"] for r in op.alerts.list().iter_rows(named=True)}
    op.alerts.verify(ids["7ABC123"], "C-1")
    op.alerts.verify(ids["5SAM781"], "C-2")
    op.alerts.reject(ids["8DPR224"], "stale entry")
    figures = hot.login("supervisor").alerts.figures()
    assert figures["hits"] == 4 and figures["verified"] == 2 and figures["rejected"] == 1 and figures["new"] == 1
    assert figures["verification_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["false_hit_rate_by_reason"] == {"stale entry": pytest.approx(1 / 3, abs=1e-3)}
    assert figures["median_minutes_to_verify"] is not None and figures["median_minutes_to_verify"] >= 0
    assert figures["by_match_kind"] == {"exact": 3, "approximate": 1}
    assert hot.login("supervisor").alerts.figures(start="2000-01-01", end="2000-01-02")["hits"] == 0


def test_delete_for_reads_removes_alerts_and_their_copies_of_read_data(hot):
    _ingest(hot, [("7ABC123", "CA", "CAM1", recent()), ("7ABC123", "CA", "CAM1", recent(2)),
                  ("8DPR224", "CA", "CAM2", recent(1))])
    store = Store.open(hot.path)
    try:
        with store.db.transaction() as tx:
            assert alert_rows.delete_for_reads(tx, ["R00001"]) == 1  # the second read of the 7ABC123 encounter
        left = alert_rows.rows(store.db)
        assert [r["plate"] for r in left] == ["8DPR224"]
        assert alert_rows.reads_of(store.db, left[0]["alert_id"]) != []
        with store.db.transaction() as tx:
            assert alert_rows.delete_for_reads(tx, ["R00002", "nope"]) == 1
        assert alert_rows.rows(store.db) == []
        assert store.db.query("SELECT count(*) AS n FROM alert_reads")[0]["n"] == 0
    finally:
        store.close()
