"""``alpr``: the command line, one command (or command group) per module, thin over the library."""

from __future__ import annotations

import click

from alpr_lib import __version__
from alpr_lib.cli._common import AlprGroup
from alpr_lib.cli.alerts import alerts
from alpr_lib.cli.audit import audit
from alpr_lib.cli.backup import backup, restore, rotate_audit_key
from alpr_lib.cli.dashboards import dashboards
from alpr_lib.cli.demo import demo
from alpr_lib.cli.evidence import evidence
from alpr_lib.cli.holds import holds
from alpr_lib.cli.hotlist import hotlist
from alpr_lib.cli.ingest import compact, ingest
from alpr_lib.cli.init import init
from alpr_lib.cli.lab import lab
from alpr_lib.cli.purge import purge, retention
from alpr_lib.cli.releases import releases
from alpr_lib.cli.search import history, search
from alpr_lib.cli.serve import serve
from alpr_lib.cli.training import training
from alpr_lib.cli.transparency import transparency
from alpr_lib.cli.upgrade import upgrade
from alpr_lib.cli.users import users
from alpr_lib.cli.watch import watch


@click.group(cls=AlprGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alpr")
def cli() -> None:
    """ALPR Workbench: audited access to license plate reader data under policy 462."""


for command in (init, demo, users, ingest, compact, search, history, audit, lab, dashboards, upgrade, serve):
    cli.add_command(command)
cli.add_command(transparency)
cli.add_command(training)
for command in (hotlist, alerts, watch):  # issue 12: hotlists, alerts, live ingest
    cli.add_command(command)
for command in (purge, retention, holds, evidence, releases, backup, restore, rotate_audit_key):  # issue 13
    cli.add_command(command)

try:  # the recognition engine adds its commands when its package is present
    from alpr_lib.cli.recognize import eval_recognition, recognize
except ImportError:  # pragma: no cover - only while the engine is being built
    pass
else:
    cli.add_command(recognize)
    cli.add_command(eval_recognition)
