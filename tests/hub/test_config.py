"""The Hub configuration as JupyterHub loads it (no root needed): loopback only, the ALPR authenticator with its
second factor, the service under its own account with Hub-token auth, kernels holding the scope that lets
them call it and the service's URL, and no store path anywhere in a user's environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from traitlets.config import PyFileConfigLoader

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub"


def _load(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY))
    return loader.load_config()


def test_the_hub_listens_on_loopback_and_signs_in_with_alpr_accounts_and_a_second_factor(monkeypatch):
    c = _load(monkeypatch, ALPR_HUB_STATE="/srv/jh", ALPR_SERVICE_PORT="8470", ALPR_HUB_TOTP="1")
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.authenticator_class == "alpr_lib.hub.authenticator.ALPRAuthenticator"
    assert c.ALPRAuthenticator.server_url == "http://127.0.0.1:8470"
    assert c.ALPRAuthenticator.totp_dir == "/srv/jh/totp"
    assert c.JupyterHub.cookie_max_age_days == 8 / 24 and c.JupyterHub.shutdown_on_logout
    assert "totp_dir" not in _load(monkeypatch, ALPR_HUB_TOTP="0").ALPRAuthenticator


def test_the_service_runs_as_its_own_account_and_kernels_reach_it_by_their_hub_token(monkeypatch):
    c = _load(monkeypatch, ALPR_SERVICE_USER="alpr-svc", ALPR_SERVICE_STORE="/srv/alpr/store",
              ALPR_SERVICE_PORT="8470")
    service = next(s for s in c.JupyterHub.services if s["name"] == "alpr")
    assert service["name"] == "alpr" and service["user"] == "alpr-svc" and service["url"] == "http://127.0.0.1:8470"
    assert service["command"][1:] == ["serve", "--store", "/srv/alpr/store", "--host", "127.0.0.1", "--port", "8470",
                                      "--hub-auth"]
    assert "access:services!service=alpr" in c.Spawner.server_token_scopes
    assert {"name": "user", "scopes": ["self", "access:services!service=alpr"]} in c.JupyterHub.load_roles
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert c.Spawner.environment["ALPR_SERVER"] == "http://127.0.0.1:8470"
    assert not any("STORE" in name or "/srv/alpr/store" in value for name, value in c.Spawner.environment.items())
    assert "--VoilaConfiguration.template=alpr" in c.Spawner.args
    assert "--VoilaConfiguration.show_tracebacks=False" in c.Spawner.args


def test_up_sh_is_valid_bash_and_refuses_an_unknown_step():
    assert subprocess.run(["bash", "-n", str(DEPLOY / "up.sh")], capture_output=True).returncode == 0
    done = subprocess.run(["bash", str(DEPLOY / "up.sh"), "teardown"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage" in done.stderr


def test_idle_servers_are_stopped_after_the_doors_idle_time(monkeypatch):
    """A kernel's Hub token opens a session without a password while its server runs: the culler stops a server
    left idle for session_idle_minutes (30), with the scopes it needs and no more."""
    c = _load(monkeypatch, ALPR_HUB_BIN="/opt/alpr/bin")
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")
    assert culler["command"][:3] == ["/opt/alpr/bin/python", "-m", "jupyterhub_idle_culler"]
    assert "--timeout=1800" in culler["command"] and "--cull-every=180" in culler["command"]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert role["services"] == ["idle-culler"]
    assert set(role["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}
    assert "--timeout=600" in next(s for s in _load(monkeypatch, ALPR_HUB_IDLE_MINUTES="10").JupyterHub.services
                                   if s["name"] == "idle-culler")["command"]
    assert [s["name"] for s in _load(monkeypatch, ALPR_HUB_IDLE_MINUTES="0").JupyterHub.services] == ["alpr"]
