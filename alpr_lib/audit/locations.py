"""Where a store's audit key and signed checkpoints live: a system file outside the store, trusted by owner.

Whoever can write the store must not be able to choose the key that signs its audit log (they would delete
records, re-chain and re-sign with their own key). So these two locations are read only from a *system
file* outside every store, and only if it is owned by the store's owner (or root) and writable by no one
else; the directories and the key file they name are held to the same rule. Environment variables and files
inside the store directory are never consulted.

The system file is the first of :func:`system_files` that exists (``~/.config/alpr/audit.toml`` of the
account running the store, then ``/etc/alpr/audit.toml``)::

    key_dir = "/srv/alpr-secrets/keys"           # one <store_id>.key per store
    checkpoint_dir = "/var/lib/alpr/checkpoints"  # one <store_id>.jsonl per store

Without one, ``~/.alpr/keys`` and ``~/.alpr/checkpoints`` are used (the same trust rules apply).
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from alpr_lib.errors import ConfigError

__all__ = ["AuditLocations", "audit_locations", "check_trusted", "store_owner", "system_files"]

_KEYS = ("key_dir", "checkpoint_dir")


@dataclass(frozen=True)
class AuditLocations:
    """The key and checkpoint directories of a store and where that choice came from."""

    key_dir: Path
    checkpoint_dir: Path
    source: str


def system_files() -> tuple[Path, ...]:
    """The system files looked for, most specific first (evaluated now: the account's home may differ)."""
    return (Path.home() / ".config" / "alpr" / "audit.toml", Path("/etc/alpr/audit.toml"))


def store_owner(store_path: Path) -> int:
    """The uid owning the store (its identity file, else its directory)."""
    identity = store_path / "store.toml"
    return (identity if identity.exists() else store_path).stat().st_uid


def check_trusted(path: Path, owner: int, what: str) -> None:
    """Refuse ``path`` unless it is owned by ``owner`` (or root) and not writable by group or others.

    A symlink is judged by what it points to, and so is every directory above a file we read: a file in a
    directory others may write can be swapped by them."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid not in (owner, 0):
        raise ConfigError(f"{what} {path} is owned by uid {info.st_uid}, not by the store's owner (uid {owner}) "
                          f"or root; it is refused (chown it to the store's owner)")
    if info.st_mode & 0o022 and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX):
        raise ConfigError(f"{what} {path} is writable by group or others (mode {stat.filemode(info.st_mode)}); "
                          f"it is refused (chmod go-w {path})")


def _read_system_file(path: Path, owner: int) -> dict[str, Path]:
    check_trusted(path, owner, "the audit system file")
    check_trusted(path.parent, owner, "the directory of the audit system file")
    if not path.is_file():
        raise ConfigError(f"the audit system file {path} is not a regular file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = set(data) - set(_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(unknown)}; this file holds only {list(_KEYS)} "
                          "(every other department setting lives in the records database)")
    out = {}
    for key in _KEYS:
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                raise ConfigError(f"{path}: {key} must be a directory path")
            out[key] = Path(data[key]).expanduser()
    return out


def _outside(directory: Path, store_path: Path, what: str, source: str) -> Path:
    directory = directory.resolve()
    store = store_path.resolve()
    if directory == store or store in directory.parents:
        raise ConfigError(f"the audit {what} directory {directory} (from {source}) is inside the store {store}; "
                          "name a directory outside it: whoever can write the store must not also reach it")
    return directory


def audit_locations(store_path: Path) -> AuditLocations:
    """The key and checkpoint directories for the store at ``store_path`` (see the module docstring)."""
    owner = store_owner(store_path)
    home = Path.home() / ".alpr"
    chosen = {"key_dir": home / "keys", "checkpoint_dir": home / "checkpoints"}
    source = "default (~/.alpr)"
    for candidate in system_files():
        if os.path.lexists(candidate):
            chosen.update(_read_system_file(candidate, owner))
            source = str(candidate)
            break
    key_dir = _outside(chosen["key_dir"], store_path, "key", source)
    checkpoint_dir = _outside(chosen["checkpoint_dir"], store_path, "checkpoint", source)
    for directory, what in ((key_dir, "the audit key directory"), (checkpoint_dir, "the checkpoint directory")):
        check_trusted(directory, owner, what)
    return AuditLocations(key_dir, checkpoint_dir, source)
