"""The declared actions, one module per area of the mission; importing this package registers them all.

Each module holds request classes decorated with :func:`alpr_lib.access.actions.action`: the arguments (a
frozen dataclass), the audit elements, the plan and the work, which calls the domain packages below. A new
area adds a module here and is listed in :data:`NAMESPACES`; the Session grows a namespace by itself.
"""

from alpr_lib.areas import (  # noqa: F401  (imported to register their actions)
    account,
    admin,
    alerts,
    analysis,
    audit,
    cases,
    evidence,
    exports,
    holds,
    hotlists,
    oversight,
    reads,
    records_admin,
    releases,
    retention,
    store_info,
    training,
)

#: Session namespaces, with what each holds (shown by ``help(s)``).
NAMESPACES: dict[str, str] = {
    "reads": "plate reads: search, history, details, ingest",
    "cases": "incidents and supervisors' approvals",
    "analysis": "canvass, multi-scene, convoy and frequent locations",
    "admin": "users, certifications, designations, cameras, settings, store maintenance",
    "audit": "the audit log: records, export, verify; review against the published rules, flags, reverse plate "
             "lookup, the periodic report and the transparency figures",
    "exports": "case-file exports: a result as CSV and a printable HTML summary (audited)",
    "store_info": "counts about the store and its cameras (no plate data)",
    "account": "your own account: password, logout",
    "oversight": "aggregate figures for command staff and compliance: read activity, silent cameras, accounts",
    "training": "the training course: exercises graded and recorded, progress, the roster, sign-off, certificates, "
                "the training sandbox",
    "hotlists": "hotlists: source grants, import and refresh, lists and entries, re-running an entry over past reads",
    "alerts": "hotlist alerts: list, verify through CLETS, reject, dispose; hit and verification figures",
    "retention": "retention and purge (462.4): purge, status, certificates, age of returned reads by purpose",
    "holds": "legal holds (462.4): place, list, release",
    "evidence": "evidence packages on portable media: export, verify, custody transfers, decrypt, the register",
    "releases": "release requests from other agencies (462.7): record, approve, deny, fulfil, the register",
}
