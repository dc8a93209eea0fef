"""The declared actions, one module per area of the mission; importing this package registers them all.

Each module holds request classes decorated with :func:`alpr_lib.access.actions.action`: the arguments (a
frozen dataclass), the audit elements, the plan and the work, which calls the domain packages below. A new
area adds a module here and is listed in :data:`NAMESPACES`; the Session grows a namespace by itself.
"""

from alpr_lib.areas import account, admin, analysis, audit, cases, exports, reads, store_info  # noqa: F401

#: Session namespaces, with what each holds (shown by ``help(s)``).
NAMESPACES: dict[str, str] = {
    "reads": "plate reads: search, history, details, ingest",
    "cases": "incidents and supervisors' approvals",
    "analysis": "canvass, multi-scene, convoy and frequent locations",
    "admin": "users, certifications, designations, cameras, settings, store maintenance",
    "audit": "the audit log: records, export, verify",
    "exports": "case-file exports: a result as CSV and a printable HTML summary (audited)",
    "store_info": "counts about the store and its cameras (no plate data)",
    "account": "your own account: password, logout",
}
