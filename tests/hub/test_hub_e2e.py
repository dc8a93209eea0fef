"""The JupyterHub deployment end to end on 127.0.0.1 (issue 16, part 4), bounded and self-stopping.

``deploy/jupyterhub/up.sh prepare`` sets up a real machine's worth of it under a temporary directory: the
service's OS account (which alone owns the store, the audit key and the checkpoints, 0700), two analysts' OS
accounts (``analyst``, certified; ``trainee``, not), a demo store whose records live in a real PostgreSQL
database that takes passwords only (the service's is in its own ``~/.pgpass``); ``up.sh start`` runs the real
JupyterHub with ``deploy/jupyterhub/jupyterhub_config.py``, configurable-http-proxy, the ALPR API service as a
Hub-managed service, and each analyst's server as their own OS account. In headless Chromium (every request to
another host aborted and recorded: none may happen) an analyst signs in to the Hub with password and one-time
code, runs notebook 01 (``alpr.login()`` needs no password: the kernel's Hub token), finds that code in the kernel
cannot open a store file, the key, the checkpoints or the records database, and renders a dashboard through the
Hub; the trainee is refused by the same path. The audit log names them, and the client. Last, a server left open
and idle is stopped by the Hub's idle culler, and its token is refused from then on.

Needs root (useradd), Debian chromium, configurable-http-proxy and PostgreSQL; every account, process and
server it starts is removed at the end.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

from tests.dashboards import assert_no_traceback
from tests.jupyterlab import CHROMIUM, _free_port, served, watched_page
from tests.pgserver import PostgresServer, _make_traversable

REPO = Path(__file__).resolve().parents[2]
UP = REPO / "deploy" / "jupyterhub" / "up.sh"
BIN = Path(sys.executable).parent
SERVICE_USER = "alpr-svc-e2e"
ANALYSTS = ("analyst", "trainee", "auditor")  # demo accounts: trainee is not certified; auditor reads dashboards
DASHBOARD = "dashboards/audit_review.ipynb"  # the auditor's dashboard (alpr_lib/viz/audit_dashboard.py)
NOTEBOOK = "notebooks/01_partial_plate_search.ipynb"
#: first department settings of the test store (argon2id at its minimum cost, as tests/conftest.py)
SETTINGS = "password_hash_time_cost=1 password_hash_memory_kib=8192"
RECORDS_PASSWORD = "records-e2e-Pw-4711"

pytestmark = [pytest.mark.browser]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (it creates OS accounts, as a department's administrator would)"
    if not CHROMIUM.exists():
        return "needs Debian chromium at /usr/bin/chromium"
    if shutil.which("configurable-http-proxy") is None:
        return "needs configurable-http-proxy (npm install -g configurable-http-proxy; .ci/run installs it)"
    if not PostgresServer.available():
        return "needs PostgreSQL (apt-get install postgresql)"
    for tool in ("useradd", "userdel", "runuser"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


def _require() -> None:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


# ---------------------------------------------------------------------------------------------- OS accounts
def _uid(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _pids(uid: int | None = None, command: str = "") -> list[int]:
    """Processes running as ``uid`` (their real uid; any when None) whose command line holds ``command``."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, StopIteration):
            if uid is not None:
                real = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("Uid:"))
                if int(real.split()[1]) != uid:
                    continue
            if command and command not in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                continue
            out.append(int(proc.name))
    return out


def _kill_processes_of(uid: int) -> None:
    """Stop what is left running as a test account (by process id): its server, kernels, the service."""
    for _ in range(2):
        pids = _pids(uid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not pids:
            return
        time.sleep(0.5)


def _remove_account(name: str) -> None:
    uid = _uid(name)
    if uid is None:
        return
    _kill_processes_of(uid)
    subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=30)
    subprocess.run(["groupdel", name], capture_output=True, timeout=30)


def _reachable_by_every_account(paths: list[Path]) -> list[tuple[Path, int]]:
    """Give others search (x) permission, never read, on the directories above ``paths``; returns what to put
    back. The virtualenv's interpreter may live under root's 0700 home (pyenv); a department installs it
    elsewhere (README.md), but the test runs the checkout's own."""
    changed = []
    for path in paths:
        for directory in path.parents:
            mode = directory.stat().st_mode
            if not mode & 0o001:
                directory.chmod((mode & 0o7777) | 0o001)
                changed.append((directory, mode & 0o7777))
    return changed


def _claim_account_names() -> None:
    """The accounts this test creates must not exist, unless a crashed run of it left them (home gone)."""
    for name in (SERVICE_USER, *ANALYSTS):
        if _uid(name) is None:
            continue
        entry = pwd.getpwnam(name)
        if Path(entry.pw_dir).exists() or "ALPR" not in entry.pw_gecos:
            pytest.skip(f"an OS account named {name!r} already exists here; this test creates and removes its own")
        _remove_account(name)


# ---------------------------------------------------------------------------------------------- records database
def _password_only_records_database(server: PostgresServer) -> str:
    """A role and database for the service; from now on the server takes passwords only (no trust over TCP),
    so code in an analyst's kernel cannot connect as anyone."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"ALTER ROLE postgres PASSWORD '{RECORDS_PASSWORD}-su'")
        conn.execute(f"CREATE ROLE alpr_svc LOGIN PASSWORD '{RECORDS_PASSWORD}'")
        conn.execute("CREATE DATABASE alpr_records OWNER alpr_svc")
        hba = server.datadir / "pg_hba.conf"
        hba.write_text("local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n"
                       "host all all ::1/128 scram-sha-256\n")
        conn.execute("SELECT pg_reload_conf()")
    return f"postgresql://alpr_svc@127.0.0.1:{server.port}/alpr_records"


# ---------------------------------------------------------------------------------------------- the deployment
class Deployment:
    def __init__(self, base: Path, records_url: str, pg_port: int) -> None:
        self.base = base
        self.srv = base / "srv"
        self.state = base / "hub"
        self.homes = base / "home"
        self.records_url = records_url
        self.pg_port = pg_port
        self.hub_port, self.service_port = _free_port(), _free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(base),
            "ALPR_ENV_FILE": str(base / "hub.env"), "ALPR_SRV": str(self.srv), "ALPR_HUB_STATE": str(self.state),
            "ALPR_SERVICE_USER": SERVICE_USER, "ALPR_SERVICE_PORT": str(self.service_port),
            "ALPR_HUB_PORT": str(self.hub_port), "ALPR_HUB_API_PORT": str(_free_port()),
            "ALPR_HUB_PROXY_API_PORT": str(_free_port()), "ALPR_HUB_BIN": str(BIN),
            "ALPR_ANALYSTS": ",".join(ANALYSTS), "ALPR_ANALYST_HOME_BASE": str(self.homes),
            "ALPR_RECORDS_URL": records_url, "ALPR_RECORDS_PASSWORD": RECORDS_PASSWORD,
            "ALPR_DEMO_READS": "5000", "ALPR_INIT_SETTINGS": SETTINGS, "ALPR_SKIP_PACKAGES": "1",
            "ALPR_HUB_TOTP": "1", "ALPR_HUB_SESSION_HOURS": "8",
            # the test drives JupyterLab through its application object (tests/jupyterlab.py does the same)
            "ALPR_HUB_SPAWNER_ARGS": "--LabApp.expose_app_in_browser=True",
        }
        self.passwords: dict[str, str] = {}
        self.totp: dict[str, pyotp.TOTP] = {}
        self.used_steps: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    @property
    def store(self) -> Path:
        return self.srv / "store"

    def prepare(self) -> None:
        done = subprocess.run(["bash", str(UP), "prepare"], env=self.env, capture_output=True, text=True,
                              timeout=240, cwd=self.base)
        assert done.returncode == 0, f"up.sh prepare failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        self.passwords = json.loads((self.srv / "home" / "demo-credentials.json").read_text())
        for name in ANALYSTS:  # the Hub administrator enrols each user's second factor
            uri = subprocess.run([sys.executable, "-m", "alpr_lib.hub.totp", "enrol", name, "--dir",
                                  str(self.state / "totp")], capture_output=True, text=True, check=True,
                                 timeout=30).stdout.strip()
            self.totp[name] = pyotp.parse_uri(uri)

    def as_service(self, code: str, *args: str) -> str:
        """Python run as the service's OS account (the only one that can open the store)."""
        done = subprocess.run(["runuser", "-u", SERVICE_USER, "--", "env", "-i", f"HOME={self.srv / 'home'}",
                               "LANG=C.UTF-8", sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=60, cwd="/")
        assert done.returncode == 0, done.stderr
        return done.stdout

    def audit(self) -> list[dict]:
        code = ("import json, sys\nfrom alpr_lib.store.store import Store\n"
                "print(json.dumps(Store.open(sys.argv[1]).audit.rows(), default=str))")
        return json.loads(self.as_service(code, str(self.store)))

    def any_store_file(self) -> Path:
        code = "import sys, pathlib; print(next(pathlib.Path(sys.argv[1]).rglob('*.parquet')))"
        return Path(self.as_service(code, str(self.store)).strip())


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    _require()
    _claim_account_names()
    base = tmp_path_factory.mktemp("hub-e2e")
    base.chmod(0o755)
    _make_traversable(base)
    with contextlib.ExitStack() as stack:
        for name in (*ANALYSTS, SERVICE_USER):
            stack.callback(_remove_account, name)
        for directory, mode in _reachable_by_every_account([Path(os.path.realpath(sys.executable)), BIN]):
            stack.callback(directory.chmod, mode)
        server = PostgresServer.start(base / "pg-parent")
        stack.callback(server.stop)
        deployment = Deployment(base, _password_only_records_database(server), server.port)
        deployment.prepare()
        stack.enter_context(served(["bash", str(UP), "start"], port=deployment.hub_port, cwd=base,
                                   env=deployment.env, log_path=base / "hub.log", what="JupyterHub",
                                   ready_path="/hub/health"))
        _wait_for(f"http://127.0.0.1:{deployment.service_port}/health", base / "hub.log", "the ALPR service")
        yield deployment


def _wait_for(url: str, log: Path, what: str, timeout_s: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2)
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not answer at {url}:\n" + log.read_text()[-3000:])


# ---------------------------------------------------------------------------------------------- the browser
def _sign_in(page, deployment: Deployment, name: str) -> None:
    page.wait_for_selector("#username_input", timeout=60_000)
    page.fill("#username_input", name)
    page.fill("#password_input", deployment.passwords[name])
    totp = deployment.totp[name]
    # the Hub takes a code only from a later time step than the last one it took for this user
    while totp.timecode(datetime.datetime.now()) <= deployment.used_steps.get(name, -1):
        time.sleep(1)
    now = datetime.datetime.now()
    deployment.used_steps[name] = totp.timecode(now)
    page.fill("#otp_input", totp.at(now))
    page.click("#login_submit")


@contextlib.contextmanager
def _evidence(page, where: Path, name: str):
    """On a failure, keep a screenshot and the page's text beside the Hub's log."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(where / f"{name}.png"))
            (where / f"{name}.txt").write_text(page.url + "\n" + page.locator("body").inner_text())
        raise


def _open_notebook(page) -> None:
    """Wait for JupyterLab with the notebook open and its kernel idle (the Hub spawns the server first)."""
    page.wait_for_selector(".jp-Notebook", timeout=240_000)  # the Hub starts the server first
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000)
    select = page.locator(".jp-Dialog button.jp-mod-accept")
    if select.count():
        select.first.click()
    page.wait_for_function(_KERNEL_IDLE, timeout=90_000)


_KERNEL_IDLE = ("() => { const w = window.jupyterapp.shell.currentWidget; return w && w.sessionContext &&"
                " w.sessionContext.session && w.sessionContext.session.kernel &&"
                " w.sessionContext.session.kernel.status === 'idle'; }")
_ALL_RAN = ("() => { const w = window.jupyterapp.shell.currentWidget; const k = w.sessionContext.session.kernel;"
            " return k.status === 'idle' && w.content.widgets.filter(c => c.model.type === 'code')"
            ".every(c => c.model.executionCount !== null && c.model.executionCount !== undefined); }")


def _run_all(page, timeout_ms: int = 150_000) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_ALL_RAN, timeout=timeout_ms)


def _run_new_cell(page, code: str, marker: str) -> str:
    """Type ``code`` into a new cell at the end and run it, as the analyst would; returns its output."""
    page.evaluate("""(code) => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        nb.model.sharedModel.insertCell(nb.model.cells.length, {cell_type: 'code', source: code});
        nb.activeCellIndex = nb.widgets.length - 1;
        return window.jupyterapp.commands.execute('notebook:run-cell');
    }""", code)
    page.wait_for_function("(m) => document.body && document.body.innerText.includes(m)", arg=marker,
                           timeout=60_000)
    return page.locator(".jp-OutputArea-output").last.inner_text()


PROBE = '''import json, os
probe = {"ALPR_STORE": os.environ.get("ALPR_STORE")}
def attempt(name, fn):
    try:
        fn()
        probe[name] = "opened"
    except Exception as exc:
        probe[name] = type(exc).__name__
attempt("store_file", lambda: open(@FILE@, "rb").read(16))
attempt("store_dir", lambda: os.listdir(@STORE@))
attempt("audit_key_dir", lambda: os.listdir(@KEYS@))
attempt("checkpoint_dir", lambda: os.listdir(@CHECKPOINTS@))
import psycopg
for role in ("alpr_svc", "postgres"):
    attempt("records_db_as_" + role, lambda: psycopg.connect(
        "postgresql://" + role + "@127.0.0.1:@PORT@/alpr_records", connect_timeout=5).close())
print("PROBE " + json.dumps(probe, sort_keys=True))
'''


def _surface(row: dict) -> str:
    """The client an audit record names (the service records a call it served as ``api:<client>``)."""
    return row["client"].removeprefix("api:")


def _sign_out(page, deployment: Deployment, name: str) -> None:
    """Log out of the Hub: it stops the user's server and kernels (shutdown_on_logout)."""
    page.goto(f"{deployment.url}/hub/logout", timeout=60_000)
    page.wait_for_selector("#username_input", timeout=60_000)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _server_running(deployment, name):
        time.sleep(0.5)
    assert not _server_running(deployment, name), f"{name}'s server still runs after logging out of the Hub"


def _server_running(deployment: Deployment, name: str) -> bool:
    return bool(_pids(pwd.getpwnam(name).pw_uid))


def _outside_requests_are_none(outside: list[str]) -> None:
    assert outside == [], f"the pages asked hosts other than 127.0.0.1: {outside}"




# ---------------------------------------------------------------------------------------------- the tests
def test_the_service_account_alone_owns_the_store_key_and_checkpoints(hub):
    owner = pwd.getpwnam(SERVICE_USER).pw_uid
    for directory in (hub.store, hub.srv / "keys", hub.srv / "checkpoints", hub.srv / "home"):
        info = directory.stat()
        assert (info.st_uid, oct(info.st_mode & 0o777)) == (owner, "0o700"), directory
    assert any((hub.srv / "keys").iterdir()) and any((hub.srv / "checkpoints").iterdir())
    assert oct((hub.srv / "home" / ".pgpass").stat().st_mode & 0o777) == "0o600"
    assert oct(hub.state.stat().st_mode & 0o777) == "0o700" and hub.state.stat().st_uid == 0
    for name in ANALYSTS:
        assert oct((hub.homes / name).stat().st_mode & 0o777) == "0o700"


def test_the_idle_culler_lists_the_servers_with_the_scopes_it_was_given(hub):
    """The culler (a Hub service) makes its first pass at start: it lists the users and their servers through
    the Hub API with its own role; a missing scope would show as 403 on its requests in the Hub's log."""
    log = hub.base / "hub.log"
    listed = re.compile(r"\b200 GET /hub/api/users\S* \(idle-culler@127\.0\.0\.1\)")
    deadline = time.monotonic() + 60
    while not listed.search(log.read_text(errors="replace")) and time.monotonic() < deadline:
        time.sleep(1)
    text = log.read_text(errors="replace")
    assert listed.search(text), "the idle culler never listed the users:\n" + text[-3000:]
    assert not re.search(r"\b40[13] \w+ \S+ \(idle-culler@", text), text[-3000:]


def test_an_analyst_signs_in_once_and_works_through_the_service_only(hub):
    store_file = hub.any_store_file()
    probe = PROBE
    for mark, value in (("@FILE@", repr(str(store_file))), ("@STORE@", repr(str(hub.store))),
                        ("@KEYS@", repr(str(hub.srv / "keys"))), ("@CHECKPOINTS@", repr(str(hub.srv / "checkpoints"))),
                        ("@PORT@", str(hub.pg_port))):
        probe = probe.replace(mark, value)
    before = len(hub.audit())
    with watched_page(f"{hub.url}/hub/login?next=/user/analyst/lab/tree/{NOTEBOOK}") as (page, outside, _console), \
            _evidence(page, hub.base, "analyst"):
        _sign_in(page, hub, "analyst")
        _open_notebook(page)
        _run_all(page)
        text = page.locator(".jp-Notebook").inner_text()
        assert "7ABK123" in text, text[-3000:]  # the planted suspect, found through the service
        assert "Traceback" not in text and "Error:" not in text, text[-3000:]
        output = _run_new_cell(page, probe, "PROBE ")
        found = json.loads(re.search(r"PROBE (\{.*\})", output).group(1))
        assert found == {"ALPR_STORE": None, "store_file": "PermissionError",
                         "store_dir": "PermissionError", "audit_key_dir": "PermissionError",
                         "checkpoint_dir": "PermissionError", "records_db_as_alpr_svc": "OperationalError",
                         "records_db_as_postgres": "OperationalError"}, found
        _sign_out(page, hub, "analyst")
        _outside_requests_are_none(outside)
    rows = [r for r in hub.audit()[before:] if r["username"] == "analyst"]
    seen = {(r["action"], _surface(r), r["outcome"]) for r in rows}
    assert ("login", "hub", "allowed") in seen, seen  # the Hub's sign-in: the password and lockout rules
    assert ("login", "notebook", "allowed") in seen, seen  # alpr.login() in the kernel, by its Hub token
    searches = [r for r in rows if r["action"] == "reads.search" and r["outcome"] == "allowed"]
    assert searches and all(_surface(r) == "notebook" and r["case_number"] == "26-005120" for r in searches)
    assert any(r["action"] == "reads.history" and r["outcome"] == "allowed" for r in rows)
    assert not any(r["outcome"] != "allowed" for r in rows), [r for r in rows if r["outcome"] != "allowed"]


def test_a_user_without_a_current_certification_is_refused_through_the_same_path(hub):
    before = len(hub.audit())
    with watched_page(f"{hub.url}/hub/login?next=/user/trainee/lab/tree/{NOTEBOOK}") as (page, outside, _console), \
            _evidence(page, hub.base, "trainee"):
        _sign_in(page, hub, "trainee")
        _open_notebook(page)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function("() => document.body && document.body.innerText.includes('462.3(d)')",
                               timeout=150_000)
        text = page.locator(".jp-Notebook").inner_text()
        assert "no ALPR training certification on record" in text and "Traceback" not in text, text[-3000:]
        _sign_out(page, hub, "trainee")
        _outside_requests_are_none(outside)
    rows = [r for r in hub.audit()[before:] if r["username"] == "trainee"]
    denied = [r for r in rows if r["outcome"] == "denied" and r["action"] != "login"]
    assert denied and all(_surface(r) == "notebook" and "462.3(d)" in r["reason"] for r in denied), rows
    assert not any(r["action"].startswith("reads.") and r["outcome"] == "allowed" for r in rows)


def test_a_wrong_one_time_code_is_refused_on_the_hub_login_form(hub):
    with watched_page(f"{hub.url}/hub/login") as (page, outside, _console):
        page.fill("#username_input", "analyst")
        page.fill("#password_input", hub.passwords["analyst"])
        code = hub.totp["analyst"].now()
        page.fill("#otp_input", f"{(int(code) + 1) % 1_000_000:06d}")
        page.click("#login_submit")
        page.wait_for_selector(".login_error", timeout=30_000)
        assert "wrong one-time code" in page.locator(".login_error").inner_text()
        page.fill("#password_input", "not-the-password-1")
        hub.used_steps["analyst"] = hub.totp["analyst"].timecode(datetime.datetime.now()) + 1  # the next step
        page.fill("#otp_input", hub.totp["analyst"].generate_otp(hub.used_steps["analyst"]))
        page.click("#login_submit")
        page.wait_for_selector(".login_error", timeout=30_000)
        assert "unknown username or wrong password" in page.locator(".login_error").inner_text()
        _outside_requests_are_none(outside)


def test_a_dashboard_renders_through_the_hub_in_the_users_own_server(hub):
    before = len(hub.audit())
    url = f"{hub.url}/hub/login?next=/user/auditor/voila/render/{DASHBOARD}"
    with watched_page(url) as (page, outside, _console), _evidence(page, hub.base, "auditor"):
        _sign_in(page, hub, "auditor")
        page.wait_for_function(
            "() => document.querySelector('input.alpr-login-user') ||"
            " (document.body && document.body.innerText.includes('Signed in as'))", timeout=180_000)
        # one sign-on: the dashboard frame opens the session with the Hub token and never asks again
        assert page.locator("input.alpr-login-user").count() == 0
        page.wait_for_function("() => document.body && document.body.innerText.includes('Signed in as')",
                               timeout=60_000)
        assert_no_traceback(page)
        _sign_out(page, hub, "auditor")
        _outside_requests_are_none(outside)
    rows = [r for r in hub.audit()[before:] if r["username"] == "auditor"]
    assert any(_surface(r) == "dashboard" and r["outcome"] == "allowed" and r["action"] != "login" for r in rows), rows


def _environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _hub_user(url: str, token: str) -> int:
    """The Hub's answer (HTTP status) to ``GET /hub/api/user`` with ``token``: 200 while it is valid."""
    import httpx

    return httpx.get(f"{url}/hub/api/user", headers={"Authorization": f"token {token}"}, timeout=10).status_code


def test_an_idle_server_is_stopped_by_the_culler_and_its_token_dies_with_it(hub):
    """Last in this module: the analyst's server is left open and idle. The Hub's culler, with the token and
    role the Hub gave it (read from its process; the timeout shortened from the configured 30 minutes to 5 s,
    which test_config checks), stops it; the Hub then refuses the server's token, so the kernel's token no
    longer opens an ALPR session at the service either."""
    import httpx

    with watched_page(f"{hub.url}/hub/login?next=/user/analyst/lab") as (page, outside, _console), \
            _evidence(page, hub.base, "analyst-idle"):
        _sign_in(page, hub, "analyst")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=240_000)
        _outside_requests_are_none(outside)
    # the browser is gone without signing out: the server (and the token its kernels would get) stays
    servers = _pids(pwd.getpwnam("analyst").pw_uid, "jupyterhub-singleuser")
    assert servers, "the analyst's server did not start"
    token = _environ_of(servers[0])["JUPYTERHUB_API_TOKEN"]
    assert _hub_user(hub.url, token) == 200
    culler_env = _environ_of(_pids(command="jupyterhub_idle_culler")[0])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "JUPYTERHUB_API_TOKEN": culler_env["JUPYTERHUB_API_TOKEN"]}
    culler = subprocess.Popen([str(BIN / "python"), "-m", "jupyterhub_idle_culler", "--timeout=5", "--cull-every=5",
                               f"--url={culler_env['JUPYTERHUB_API_URL']}"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _server_running(hub, "analyst"):
            time.sleep(1)
        stopped = not _server_running(hub, "analyst")
    finally:
        culler.terminate()
        output = culler.communicate(timeout=30)[0]
    assert stopped, "the culler did not stop the idle server:\n" + output[-3000:]
    log = (hub.base / "hub.log").read_text(errors="replace")
    assert re.search(r"\b20[24] DELETE /hub/api/users/analyst/server \S* ?\(idle-culler@127\.0\.0\.1\)", log), \
        log[-3000:]
    assert _hub_user(hub.url, token) == 403
    answer = httpx.post(f"http://127.0.0.1:{hub.service_port}/session/hub",
                        headers={"Authorization": f"token {token}"}, timeout=30)
    assert answer.status_code in (401, 403), answer.text
