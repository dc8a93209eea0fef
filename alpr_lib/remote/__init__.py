"""The remote Session (server mode, issue 16): the same namespaces and methods as :class:`alpr_lib.Session`,
generated from the same registry, with every call sent to the API service (:mod:`alpr_lib.server`).

Imports nothing of the service (no FastAPI): a kernel that cannot read the store needs only this and httpx.
"""

from alpr_lib.remote.client import RemoteSession, connect, connect_hub

__all__ = ["RemoteSession", "connect", "connect_hub"]
