# JupyterHub for ALPR Workbench on one machine (see README.md beside this file).
#
#   Hub (root) ── configurable-http-proxy ── each analyst's own server (their OS account: JupyterLab + Voila)
#    │                                         └ kernels hold JUPYTERHUB_API_TOKEN and reach data only through:
#    └ the ALPR API service (Hub-managed, OS account alpr-svc, which alone can read the store, its audit key,
#      its checkpoints and — by password in its own ~/.pgpass — the PostgreSQL records database)
#
# Everything a department changes is an environment variable read below (up.sh writes them to
# /etc/alpr/hub.env); the test in tests/hub runs this very file with its own values.
# ruff: noqa: F821  (get_config is provided by JupyterHub)

import os
import shlex
import sys
from pathlib import Path

from alpr_lib.cli.lab import JUPYTER_CONFIG

c = get_config()
env = os.environ.get

STATE = Path(env("ALPR_HUB_STATE", "/srv/jupyterhub"))  # root 0700: cookie secret, Hub database, TOTP secrets
BIN = Path(env("ALPR_HUB_BIN", str(Path(sys.executable).parent)))  # the virtualenv with alpr_workbench[hub]
SERVICE_USER = env("ALPR_SERVICE_USER", "alpr-svc")
SERVICE_STORE = env("ALPR_SERVICE_STORE", "/srv/alpr/store")
SERVICE_HOST = env("ALPR_SERVICE_HOST", "127.0.0.1")
SERVICE_PORT = int(env("ALPR_SERVICE_PORT", "8470"))
SERVICE_URL = f"http://{SERVICE_HOST}:{SERVICE_PORT}"
NOTEBOOKS = env("ALPR_HUB_NOTEBOOKS", "/srv/alpr/workbench")  # notebooks/ and dashboards/ given to each analyst
SESSION_HOURS = float(env("ALPR_HUB_SESSION_HOURS", "8"))  # keep equal to the department's session_max_hours
IDLE_MINUTES = float(env("ALPR_HUB_IDLE_MINUTES", "30"))  # keep equal to session_idle_minutes; 0: never cull
TOTP = env("ALPR_HUB_TOTP", "1").lower() in ("1", "yes", "true", "on")

# ---------------------------------------------------------------------------------------------- network
# Loopback only: TLS is terminated in front of the Hub (docs/deployment.md, "TLS termination").
c.JupyterHub.ip = env("ALPR_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(env("ALPR_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("ALPR_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(env('ALPR_HUB_PROXY_API_PORT', '8001'))}"
c.ConfigurableHTTPProxy.command = shlex.split(env("ALPR_HUB_PROXY", "configurable-http-proxy"))
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_max_age_days = SESSION_HOURS / 24  # a Hub sign-on lasts no longer than an ALPR session
c.JupyterHub.shutdown_on_logout = True  # logging out of the Hub stops the user's server and its kernels
c.JupyterHub.cleanup_servers = True
c.JupyterHub.implicit_spawn_seconds = 1  # a link to a notebook or dashboard starts its user's server

# ---------------------------------------------------------------------------------------------- sign-in
# The ALPR accounts themselves, checked by the API service (the Hub never opens the store). The department's
# OIDC provider instead: README.md, "Single sign-on through the department's OIDC provider".
c.JupyterHub.authenticator_class = "alpr_lib.hub.authenticator.ALPRAuthenticator"
c.ALPRAuthenticator.server_url = SERVICE_URL
if TOTP:  # the second factor (CJIS remote access): enrol with python -m alpr_lib.hub.totp enrol NAME --dir ...
    c.ALPRAuthenticator.totp_dir = str(STATE / "totp")
c.Authenticator.admin_users = set(filter(None, env("ALPR_HUB_ADMINS", "").split(",")))

# ---------------------------------------------------------------------------------------------- the service
c.JupyterHub.services = [{
    "name": "alpr",
    "url": SERVICE_URL,
    "user": SERVICE_USER,  # the only account that can read the store, its key and checkpoints (all 0700)
    "command": [str(BIN / "alpr"), "serve", "--store", SERVICE_STORE, "--host", SERVICE_HOST,
                "--port", str(SERVICE_PORT), "--hub-auth"],
    "display": False,
}]
# Kernels' Hub tokens may call the service as their user (403 without this scope, 401 without a token).
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", "access:services!service=alpr"]},
]

# ---------------------------------------------------------------------------------------------- idle servers
# A kernel's Hub token opens an ALPR session without a password for as long as its server runs, so a server
# left idle is stopped (and its token with it) after the door's own idle time; a server's activity reaches the
# Hub every 5 minutes, so it is stopped 30-35 minutes after its last use.
if IDLE_MINUTES > 0:
    c.JupyterHub.services.append({
        "name": "idle-culler",
        "command": [str(BIN / "python"), "-m", "jupyterhub_idle_culler", f"--timeout={round(IDLE_MINUTES * 60)}",
                    f"--cull-every={max(10, min(300, round(IDLE_MINUTES * 6)))}"],
    })
    c.JupyterHub.load_roles.append({
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    })

# ---------------------------------------------------------------------------------------------- user servers
# Each analyst's server and kernels run as their own OS account (LocalProcessSpawner: the Hub runs as root).
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.args = [
    "--LabApp.news_url=None",
    # Voila inside the user's server (/user/NAME/voila/render/...), with the offline template, no tracebacks
    "--VoilaConfiguration.template=alpr",
    "--VoilaConfiguration.show_tracebacks=False",
    *shlex.split(env("ALPR_HUB_SPAWNER_ARGS", "")),  # more single-user server options, if a department needs any
]
c.Spawner.server_token_scopes = [
    "users:activity!user",  # the default server role
    "access:servers!server",
    "access:services!service=alpr",  # alpr.login() in a kernel: the service checks this token with the Hub
]
c.Spawner.environment = {
    "ALPR_SERVER": SERVICE_URL,  # alpr.login() in a kernel asks the service; there is no store path here
    # the workbench's JupyterLab settings, as `alpr lab` gives them; and jupyter/ beside this file: Voila inside a
    # Jupyter server would load MathJax from a CDN (its page config's default) instead of the bundled one
    "JUPYTER_CONFIG_PATH": os.pathsep.join([str(Path(__file__).resolve().parent / "jupyter"), str(JUPYTER_CONFIG)]),
}
c.Spawner.http_timeout = 120  # a first JupyterLab start on a busy server can take a while
c.Spawner.start_timeout = 180


def give_workbench(spawner) -> None:
    """Copy the department's notebooks and dashboards into the user's home at first start, as the user
    (never as root into a directory the user controls); existing copies are left as they are."""
    import subprocess

    if not Path(NOTEBOOKS).is_dir():
        return
    name = spawner.user.name
    subprocess.run(["runuser", "-u", name, "--", "cp", "-rn", "--", f"{NOTEBOOKS}/.", "."], check=False,
                   cwd=os.path.expanduser(f"~{name}"), timeout=60)


c.Spawner.pre_spawn_hook = give_workbench
