"""What each role may do, declared as data (policy 462.2.1(a): who is authorised to use or access ALPR).

Checks elsewhere ask ``has_permission(roles, "reads.search")``; nothing tests role names directly, so a
department changes who may do what here (or in a later configuration file) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from alpr_lib.errors import ValidationError

__all__ = ["EVERYONE", "PERMISSIONS", "ROLES", "SERVICE_PERMISSIONS", "has_permission", "permissions_of",
           "validate_roles"]

#: Every permission, with the reason it exists.
PERMISSIONS: dict[str, str] = {
    "reads.search": "search plate reads by full or partial plate (462.3(c))",
    "reads.history": "list every read of one plate",
    "reads.details": "open one read (and its image)",
    "reads.canvass": "canvass reads around a place and time (462.3(c))",
    "reads.analysis": "sensitive analysis: multi-scene, convoy, frequent locations",
    "reads.ingest": "write reads into the store (462.4: data transferred from vehicles)",
    "cameras.manage": "add or update cameras in the camera registry",
    "store.compact": "merge the store's small read files (nightly maintenance; reveals no read data)",
    "settings.manage": "change the department's settings (recorded with the old and new value)",
    "self.account": "change your own password and end your own session",
    "incidents.write": "record incidents to canvass around",
    "approvals.grant": "approve a canvass beyond the offense limits for a case",
    "audit.review": "read, export and verify the audit log (462.5(c))",
    "users.manage": "create, disable and reset users; record designations (462.2.1(a),(e))",
    "training.certify": "record a training certification (462.3(d), 462.8)",
    "dashboards.command": "view the operational and compliance dashboards",
    "store.summary": "see counts about the store (no plate data)",
}

#: Role -> permissions. "service" is for ingest accounts: they write reads and never search.
ROLES: dict[str, frozenset[str]] = {
    "analyst": frozenset({"reads.search", "reads.history", "reads.details", "reads.canvass",
                          "reads.analysis", "incidents.write", "store.summary"}),
    "operator": frozenset({"reads.search", "reads.history", "reads.details", "reads.ingest",
                           "cameras.manage", "store.compact", "store.summary"}),
    "supervisor": frozenset({"reads.search", "reads.history", "reads.details", "reads.canvass",
                             "reads.analysis", "incidents.write", "approvals.grant", "dashboards.command",
                             "store.summary"}),
    "command_staff": frozenset({"dashboards.command", "store.summary"}),
    "auditor": frozenset({"audit.review", "store.summary"}),
    "trainer": frozenset({"training.certify"}),
    "administrator": frozenset({"users.manage", "training.certify", "audit.review", "reads.ingest",
                                "cameras.manage", "store.compact", "settings.manage", "dashboards.command",
                                "store.summary"}),
    "service": frozenset({"reads.ingest", "cameras.manage", "store.compact"}),
}

#: Every account holds these, whatever its roles.
EVERYONE = frozenset({"self.account"})

#: All a service account may ever do (it writes reads; it never sees them).
SERVICE_PERMISSIONS = ROLES["service"] | EVERYONE


def validate_roles(roles: Iterable[str], *, service: bool = False) -> tuple[str, ...]:
    """Normalise role names and refuse unknown ones; a service account holds only the service role."""
    out = tuple(dict.fromkeys(r.strip().lower().replace(" ", "_") for r in roles))
    if not out:
        raise ValidationError(f"a user needs at least one role; roles are {sorted(ROLES)}")
    unknown = [r for r in out if r not in ROLES]
    if unknown:
        raise ValidationError(f"unknown role(s) {unknown}; roles are {sorted(ROLES)}")
    if service and out != ("service",):
        raise ValidationError("a service account holds only the 'service' role: it can ingest, never search")
    if not service and "service" in out:
        raise ValidationError("the 'service' role is only for service accounts (alpr users add --service)")
    return out


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    """Union of the permissions of the given roles."""
    perms: set[str] = set(EVERYONE)
    for role in roles:
        perms |= ROLES.get(role, frozenset())
    return frozenset(perms)


def has_permission(roles: Iterable[str], permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")
    return permission in permissions_of(roles)
