"""``alpr serve``: the API service (server mode): the audited door over HTTP for remote sessions."""

from __future__ import annotations

import click

from alpr_lib.cli._common import store_option


@click.command("serve")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the loopback address behind a TLS-terminating proxy "
                   "(docs/deployment.md); the service speaks plain HTTP.")
@click.option("--port", default=8470, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--hub-auth", is_flag=True, default=False,
              help="Also accept JupyterHub tokens (POST /session/hub), checked with the Hub at "
                   "JUPYTERHUB_API_URL; the Hub user is the ALPR account of the same name.")
def serve(store: str, host: str, port: int, hub_auth: bool) -> None:
    """Serve the store's declared actions over HTTP (alpr_lib.login(..., server="http://HOST:PORT")).

    Every route is a declared action run by the same audited door; the store stays usable by the CLI and
    embedded sessions meanwhile. Stop it with Ctrl-C (or SIGTERM)."""
    from alpr_lib.server import serve as run

    click.echo(f"ALPR API service for {store} on http://{host}:{port} (Ctrl-C stops it)", err=True)
    run(store, host=host, port=port, hub_auth=hub_auth)
