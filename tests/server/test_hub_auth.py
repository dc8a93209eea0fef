"""The service's hook for JupyterHub tokens (``alpr serve --hub-auth``): the Hub user becomes the ALPR account
of the same name, under every ALPR rule. JupyterHub's ``/hub/api/user`` is played by a small loopback HTTP
server answering as the Hub does (the real Hub is driven end to end in tests/hub)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import alpr_lib as alpr
from alpr_lib.errors import AccessDenied, AuthError
from alpr_lib.store.store import Store

TOKENS = {"tok-analyst": ("analyst", ["access:services!service=alpr"]),
          "tok-trainee": ("trainee", ["access:services!service=alpr"]),
          "tok-nobody": ("mallory", ["access:services!service=alpr"]),
          "tok-noscope": ("analyst", ["self"])}


class _HubApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        known = TOKENS.get(token) if scheme == "token" and self.path == "/hub/api/user" else None
        body = json.dumps({"name": known[0], "kind": "user", "scopes": known[1]} if known else
                          {"status": 403, "message": "not authorized"}).encode()
        self.send_response(200 if known else 403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    server.shutdown()
    server.server_close()


def _login(monkeypatch, url: str, token: str, user: str):
    monkeypatch.setenv("ALPR_SERVER", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    monkeypatch.setenv("JUPYTERHUB_USER", user)
    return alpr.login()


def test_hub_token_signs_in_the_account_of_the_same_name_under_every_rule(kit, serve, hub_api, monkeypatch):
    env = {"JUPYTERHUB_API_URL": hub_api, "JUPYTERHUB_SERVICE_NAME": "alpr"}
    with serve(kit.path, env=env, extra=("--hub-auth",)) as url:
        analyst = _login(monkeypatch, url, "tok-analyst", "analyst")
        assert analyst.username == "analyst" and analyst.store_summary()["kind"] == "operational"
        trainee = _login(monkeypatch, url, "tok-trainee", "trainee")
        with pytest.raises(AccessDenied, match="certif"):  # signed in, but the door still wants training
            trainee.search_plates("7AB*", purpose="stolen or wanted vehicles")
        with pytest.raises(AuthError, match="no ALPR account"):
            _login(monkeypatch, url, "tok-nobody", "mallory")
        with pytest.raises(AuthError, match="does not recognise this token"):
            _login(monkeypatch, url, "tok-forged", "analyst")
        with pytest.raises(AuthError, match="lacks the scope"):
            _login(monkeypatch, url, "tok-noscope", "analyst")
        kit.login("admin").admin.disable_user("analyst")
        with pytest.raises(AuthError, match="ended"):
            analyst.store_summary()
        with pytest.raises(AuthError, match="disabled"):
            _login(monkeypatch, url, "tok-analyst", "analyst")
    logins = [json.loads(r["query"]) | {"o": r["outcome"], "u": r["username"]}
              for r in Store.open(kit.path).audit.rows() if r["action"] == "login" and r["client"] == "api:script"]
    assert [(x["u"], x["o"]) for x in logins] == [("analyst", "allowed"), ("trainee", "allowed"),
                                                  ("(unknown username)", "denied"), ("(no session)", "denied"),
                                                  ("(no session)", "denied"), ("analyst", "denied")]
    assert all(x["authenticated_by"] == "jupyterhub" for x in logins)


def test_a_service_without_hub_auth_refuses_hub_tokens(kit, serve, monkeypatch):
    with serve(kit.path) as url, pytest.raises(AuthError, match="does not accept JupyterHub tokens"):
        _login(monkeypatch, url, "tok-analyst", "analyst")


def test_a_dashboard_under_the_hub_opens_with_the_hub_login(kit, serve, hub_api, monkeypatch):
    """One sign-on: in a Hub user's server (ALPR_SERVER and the Hub token set) the dashboard frame opens its
    session with the token and shows the view, no form; a refusal still shows as the one-line message."""
    from alpr_lib.viz.dashboard import Dashboard

    env = {"JUPYTERHUB_API_URL": hub_api, "JUPYTERHUB_SERVICE_NAME": "alpr"}
    with serve(kit.path, env=env, extra=("--hub-auth",)) as url:
        monkeypatch.setenv("ALPR_SERVER", url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-analyst")
        monkeypatch.setenv("JUPYTERHUB_USER", "analyst")
        import ipywidgets as w

        dash = Dashboard("Probe", lambda s, d: w.HTML(str(s.store_info.summary()["reads"])))
        assert dash.sign_on_through_hub() is True
        assert dash.session.username == "analyst" and dash.form not in dash.body.children
        refused = Dashboard("Probe", lambda s, d: s.audit.records(limit=1))
        assert refused.sign_on_through_hub() is False
        assert "audit" in refused.error_area.value.lower() and refused.body.children == (refused.form,)
    rows = [r for r in Store.open(kit.path).audit.rows() if r["client"] == "api:dashboard"]
    assert any(r["action"] == "store.summary" and r["outcome"] == "allowed" for r in rows), rows
