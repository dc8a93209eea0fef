"""ALPR Workbench: audited, policy-bound access to Automated License Plate Reader data.

Everything a notebook, dashboard or the CLI does with plate reads goes through a :class:`Session`::

    import alpr_lib as alpr
    s = alpr.login()
    hits = s.search_plates("7AB?12*", purpose="criminal investigation", case_number="24-001234")

In a notebook, ``alpr.notebook.setup()`` (before ``login``) shows frames as readable tables and library errors
as one line.

Only the names below are public; other modules may change.
"""

from alpr_lib import notebook
from alpr_lib.access.actions import Action, actions
from alpr_lib.areas import NAMESPACES
from alpr_lib.config import Config, Purpose, load_config
from alpr_lib.errors import (
    AccessDenied,
    AlprError,
    AuditIntegrityError,
    AuthError,
    ConfigError,
    IngestError,
    NotFound,
    RecognitionError,
    StoreError,
    ValidationError,
)
from alpr_lib.login import login
from alpr_lib.session import Session

__version__ = "0.1.0"


def areas_namespaces() -> dict[str, str]:
    """The Session's namespaces and what each holds."""
    return dict(NAMESPACES)

__all__ = [
    "AccessDenied",
    "Action",
    "AlprError",
    "AuditIntegrityError",
    "AuthError",
    "Config",
    "ConfigError",
    "IngestError",
    "NotFound",
    "Purpose",
    "RecognitionError",
    "Session",
    "StoreError",
    "ValidationError",
    "__version__",
    "actions",
    "areas_namespaces",
    "load_config",
    "login",
    "notebook",
]
