"""The API service (server mode, issue 16): the audited door over HTTP, routes generated from the registry.

``alpr serve --store DIR`` runs it; :mod:`alpr_lib.remote` is its client, the same Session remote. See
``docs/deployment.md``.
"""

from alpr_lib.server.app import Service, create_app

__all__ = ["Service", "create_app", "serve"]


def serve(store: str, *, host: str = "127.0.0.1", port: int = 8470, hub_auth: bool = False,
          log_level: str = "warning") -> None:
    """Run the service until interrupted (uvicorn, one process; requests run on its thread pool)."""
    import uvicorn

    from alpr_lib.server.hub import hub_authenticator

    service = Service(store, hub_auth=hub_authenticator() if hub_auth else None)
    try:
        uvicorn.run(create_app(service), host=host, port=port, log_level=log_level, access_log=False,
                    server_header=False)
    finally:
        service.close()
