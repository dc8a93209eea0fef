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
    "training.take": "take the department's ALPR training: the sandbox, the course, your own progress (462.8)",
    "training.roster": "see every user's training progress, scores and certificate status (462.8)",
    "training.sign_off": "sign off a trainee who passed every module, issuing a certificate (462.8)",
    "training.manage": "build the training sandbox and revoke certificates (462.8)",
    "users.reinstate": "reinstate an account suspended after inactivity (State Auditor's recommendation)",
    "dashboards.command": "view the operational and compliance dashboards",
    "store.summary": "see counts about the store (no plate data)",
    # hotlists and alerts (issue 12): 462.2, 462.3(c),(e),(f)
    "hotlists.manage": "import and refresh hotlists; re-run an entry over past reads (462.2, 462.3(c))",
    "hotlists.view": "see hotlists and their entries, from the sources granted to you (462.3(e))",
    "hotlists.grant": "grant or revoke the hotlist sources (department, state, federal) a user may see (462.3(e))",
    "alerts.review": "see, verify, reject and dispose hotlist alerts from granted sources (462.3(f))",
    "alerts.figures": "see hotlist hit and verification figures (no plate data)",
    # records management (issue 13): 462.4 retention and evidence, 462.7 release requests
    "records.purge": "purge reads past the retention period from every copy (462.4, Gov. Code 34090.6)",
    "records.view": "see retention status, purge certificates and age statistics (no plate data)",
    "holds.place": "place a legal hold on reads (kept past retention as evidence, 462.4)",
    "holds.release": "release a legal hold, with a reason (supervisor or custodian of records)",
    "holds.view": "list legal holds",
    "evidence.export": "export reads to portable media as an evidence package, with chain of custody (462.4)",
    "evidence.verify": "verify an evidence package and record custody transfers",
    "releases.add": "record a written release request from another agency (462.7)",
    "releases.view": "see the register of release requests and decisions (462.7)",
    "releases.decide": "approve, deny or fulfil a release request (Administration Division Commander or "
                       "designee only, 462.2.1(e), 462.7)",
    "store.backup": "back up the store with its records, audit key and checkpoints",
    "audit.rotate_key": "rotate the audit HMAC key (the chain continues across the rotation)",
    # audit review and oversight (issue 14): 462.2.1(g), 462.5(c)
    "reports.transparency": "produce the public transparency figures (aggregate, no plate data; 462.2.1(g))",
    "compliance.view": "see users' training status, dormant accounts and the other compliance figures (462.5(c))",
}

#: Role -> permissions. "service" is for ingest accounts: they write reads and never search.
ROLES: dict[str, frozenset[str]] = {
    "analyst": frozenset({"reads.search", "reads.history", "reads.details", "reads.canvass",
                          "reads.analysis", "incidents.write", "store.summary", "training.take"}),
    "operator": frozenset({"reads.search", "reads.history", "reads.details", "reads.ingest",
                           "cameras.manage", "store.compact", "store.summary", "training.take",
                           "hotlists.view", "alerts.review"}),
    "supervisor": frozenset({"reads.search", "reads.history", "reads.details", "reads.canvass",
                             "reads.analysis", "incidents.write", "approvals.grant", "dashboards.command",
                             "store.summary", "training.take", "users.reinstate",
                             "hotlists.manage", "hotlists.view", "hotlists.grant", "alerts.review",
                             "alerts.figures"}),
    "command_staff": frozenset({"dashboards.command", "store.summary", "training.take",
                                "alerts.figures"}),
    "auditor": frozenset({"audit.review", "store.summary", "training.take", "training.roster"}),
    "trainer": frozenset({"training.certify", "training.take", "training.roster", "training.sign_off",
                          "training.manage"}),
    "administrator": frozenset({"users.manage", "training.certify", "audit.review", "reads.ingest",
                                "cameras.manage", "store.compact", "settings.manage", "dashboards.command",
                                "store.summary", "training.take", "training.roster", "training.manage",
                                "users.reinstate",
                                "hotlists.grant", "alerts.figures"}),
    "service": frozenset({"reads.ingest", "cameras.manage", "store.compact"}),
}

#: Records management (issue 13): the analyst holds and exports a case's reads, the supervisor also releases
#: holds, the administrator purges and records release requests, command staff (the Administration Division
#: Commander, by designation) decide them; the Custodian of Records holds all of records management.
_RECORDS_GRANTS: dict[str, frozenset[str]] = {
    "analyst": frozenset({"holds.place", "holds.view", "evidence.export", "evidence.verify"}),
    "supervisor": frozenset({"holds.place", "holds.release", "holds.view", "evidence.export", "evidence.verify"}),
    "command_staff": frozenset({"releases.view", "releases.decide", "records.view", "holds.view"}),
    "auditor": frozenset({"records.view", "holds.view", "releases.view", "evidence.verify"}),
    "administrator": frozenset({"records.purge", "records.view", "holds.view", "releases.add", "releases.view",
                                "store.backup", "audit.rotate_key", "evidence.verify"}),
    "custodian_of_records": frozenset({"reads.search", "reads.history", "reads.details", "store.summary",
                                       "records.purge", "records.view", "holds.place", "holds.release",
                                       "holds.view", "evidence.export", "evidence.verify", "releases.add",
                                       "releases.view", "store.backup"}),
}
for _role, _granted in _RECORDS_GRANTS.items():
    ROLES[_role] = ROLES.get(_role, frozenset()) | _granted

#: Audit review and oversight (issue 14): auditors and the administrator see compliance; they and command staff
#: produce the public transparency figures.
_OVERSIGHT_GRANTS: dict[str, frozenset[str]] = {
    "auditor": frozenset({"compliance.view", "reports.transparency"}),
    "administrator": frozenset({"compliance.view", "reports.transparency"}),
    "command_staff": frozenset({"reports.transparency"}),
}
for _role, _granted in _OVERSIGHT_GRANTS.items():
    ROLES[_role] = ROLES.get(_role, frozenset()) | _granted

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
