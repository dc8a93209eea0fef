"""``alpr``: the command line, one command (or command group) per module, thin over the library."""

from __future__ import annotations

import click

from alpr_lib import __version__
from alpr_lib.cli._common import AlprGroup
from alpr_lib.cli.audit import audit
from alpr_lib.cli.dashboards import dashboards
from alpr_lib.cli.demo import demo
from alpr_lib.cli.ingest import compact, ingest
from alpr_lib.cli.init import init
from alpr_lib.cli.lab import lab
from alpr_lib.cli.search import history, search
from alpr_lib.cli.upgrade import upgrade
from alpr_lib.cli.users import users


@click.group(cls=AlprGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alpr")
def cli() -> None:
    """ALPR Workbench: audited access to license plate reader data under policy 462."""


for command in (init, demo, users, ingest, compact, search, history, audit, lab, dashboards, upgrade):
    cli.add_command(command)

try:  # the recognition engine adds its commands when its package is present
    from alpr_lib.cli.recognize import eval_recognition, recognize
except ImportError:  # pragma: no cover - only while the engine is being built
    pass
else:
    cli.add_command(recognize)
    cli.add_command(eval_recognition)
