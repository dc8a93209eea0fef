"""A store directory: its identity and kind, its records database, its read files and its audit log.

Layout::

    STORE/store.toml            identity: store_id, kind (operational | training), created_at, records_url
    STORE/records.db            system of record (SQLite, WAL), unless records_url names a PostgreSQL database
    STORE/reads/day=YYYY-MM-DD/part-<batch>.parquet   plate reads, by UTC capture day, in time order
    STORE/index/by_plate/b=NN/part-<batch>.parquet     the same reads in 64 plate buckets, sorted by plate
    STORE/index/plates-[delta-]<batch>.parquet         plate dictionary levels (distinct plates, counts, first/last)
    STORE/training/             the training sandbox: a store of kind training whose store.toml names this store
                                as ``accounts_store`` (see :mod:`alpr_lib.training.sandbox`)

A training sandbox shares its operational store's accounts, certifications and settings (``accounts_db``) but
never its reads: its reads, manifest, sessions and audit log are its own, in its own SQLite records database.

Only the audited door (:mod:`alpr_lib.access.door`) hands data to users; this class is the plumbing under it.
Opening a store does no heavy work: it applies pending records migrations (small, transactional) and refuses
a store whose Parquet layout needs rebuilding, naming the command that does it (``alpr upgrade``).
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alpr_lib.audit.keys import AuditKey, Checkpoints
from alpr_lib.audit.locations import audit_locations, store_owner
from alpr_lib.audit.log import AuditLog
from alpr_lib.config import load_config, parse_setting
from alpr_lib.errors import ConfigError, StoreError
from alpr_lib.records import Backend, open_records
from alpr_lib.records import meta as meta_rows
from alpr_lib.records import settings as settings_rows
from alpr_lib.records.migrations import migrate
from alpr_lib.timeutil import iso, utc_now

__all__ = ["STORE_KINDS", "Store", "open_for_upgrade", "records_url_of", "resolve_store_path", "store_kind"]

STORE_KINDS = ("operational", "training")


def resolve_store_path(store: str | os.PathLike | None) -> Path:
    """The store directory from the argument or ``ALPR_STORE``, with a clear error when neither is set."""
    value = store if store is not None else os.environ.get("ALPR_STORE")
    if not value:
        raise StoreError("no store given: pass store=... (or --store) or set ALPR_STORE to the store directory")
    return Path(value).expanduser()


def _read_meta(path: Path) -> dict:
    """A store's store.toml as written; StoreError when there is none or it is not valid TOML."""
    meta_path = path / "store.toml"
    if not meta_path.exists():
        raise StoreError(
            f"{path} is not an ALPR store (no store.toml). Create one with `alpr init --store {path}` "
            f"or a demo with `alpr demo --store {path}`"
        )
    try:
        return tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(f"{meta_path} is damaged: {exc}") from None


def store_kind(path: Path) -> str | None:
    """The ``kind`` a store's store.toml names, or None where there is no readable store (yet) at ``path``;
    for a caller that only asks which kind of store a path holds (``Store.open`` checks it in full)."""
    try:
        kind = _read_meta(Path(path)).get("kind")
    except (StoreError, OSError, UnicodeDecodeError):
        return None
    return kind if isinstance(kind, str) else None


def records_url_of(meta: dict) -> str | None:
    """Where the records database is: ``ALPR_RECORDS_URL``, else ``records_url`` in store.toml, else SQLite.

    A training sandbox (``accounts_store`` in its store.toml) always keeps its records in its own SQLite file:
    ``ALPR_RECORDS_URL`` names the operational store's database, which its reads must never join."""
    if meta.get("accounts_store"):
        return None
    return os.environ.get("ALPR_RECORDS_URL") or meta.get("records_url") or None


class Store:
    """An opened store directory."""

    def __init__(self, path: Path, meta: dict) -> None:
        self.path = path
        self.store_id: str = meta["store_id"]
        self.kind: str = meta["kind"]
        # synthetic (demo) data: said by store.toml AND by the records database (Store.create writes both), so
        # a file inside the store alone cannot turn on what only a demo may do (a synthetic clock, set passwords)
        self.synthetic: bool = False
        self.name: str = meta.get("name", path.name)
        self.records_url = records_url_of(meta)
        self.locations = audit_locations(path)  # from the system file, never from the store or the environment
        owner = store_owner(path)
        self.db = open_records(self.records_url, path)
        migrate(self.db)
        self.synthetic = bool(meta.get("synthetic", False)) and meta_rows.get(self.db, "synthetic") == "true"
        #: a training sandbox's operational store, whose accounts, certifications and settings it shares
        self.accounts_store: Store | None = None
        if meta.get("accounts_store"):
            self.accounts_store = self._open_accounts(path, str(meta["accounts_store"]), meta)
        self.reload_config()
        self.audit_key = AuditKey(self.locations.key_dir, self.store_id, owner)
        self.audit = AuditLog(self.db, self.audit_key, Checkpoints(self.locations.checkpoint_dir, self.store_id,
                                                                   owner), self.store_id)

    def _open_accounts(self, path: Path, relative: str, meta: dict) -> Store:
        if meta.get("kind") != "training":
            self.db.close()
            raise StoreError(f"{path / 'store.toml'} names an accounts_store but is not a training store")
        try:
            accounts = Store._open((path / relative).resolve())
        except BaseException:
            self.db.close()
            raise
        if accounts.kind != "operational":
            accounts.close()
            self.db.close()
            raise StoreError(f"the training store {path} must share the accounts of an operational store, not of "
                             f"the {accounts.kind} store {accounts.path}")
        return accounts

    @property
    def accounts_db(self) -> Backend:
        """The records database holding this store's users, certifications, training records and settings:
        the operational store's for a training sandbox, else this store's own."""
        return self.accounts_store.db if self.accounts_store is not None else self.db

    @property
    def training_path(self) -> Path:
        """Where this operational store's training sandbox lives (``STORE/training``)."""
        return self.path / "training"

    def reload_config(self) -> None:
        """Read the department settings again from the records database (their only source; a training
        sandbox uses its operational store's)."""
        self.config = load_config(settings_rows.get_all(self.accounts_db))

    @property
    def reads_dir(self) -> Path:
        return self.path / "reads"

    @property
    def index_dir(self) -> Path:
        return self.path / "index"

    @property
    def images_dir(self) -> Path:
        return self.path / "images"

    @property
    def is_training(self) -> bool:
        return self.kind == "training"

    def banner(self) -> str:
        """One line saying which store this is; training and synthetic stores say so loudly."""
        marks = []
        if self.is_training:
            marks.append("TRAINING STORE - not operational data")
        if self.synthetic:
            marks.append("synthetic demo data")
        extra = f" [{'; '.join(marks)}]" if marks else ""
        return f"ALPR store {self.name} ({self.kind}){extra}"

    @classmethod
    def create(cls, path: str | os.PathLike, *, kind: str = "operational", name: str | None = None,
               synthetic: bool = False, records_url: str | None = None,
               settings: Mapping[str, Any] | None = None, accounts_store: str | None = None) -> Store:
        """Make a new, empty store directory (refuses a non-empty one). ``settings`` are the department's
        first settings (``alpr init --setting``), written to the records database with the store.
        ``accounts_store`` (a training store only: the operational store's path relative to this one) shares
        that store's accounts; the new store's records then stay in its own SQLite file."""
        if kind not in STORE_KINDS:
            raise StoreError(f"store kind must be one of {STORE_KINDS}, not {kind!r}")
        settings = dict(settings or {})
        for key, value in settings.items():
            try:
                parse_setting(key, value)
            except ConfigError as exc:
                raise ConfigError(f"setting {key!r}: {exc}") from None
        path = Path(path).expanduser()
        if path.exists() and any(path.iterdir()):
            raise StoreError(f"{path} exists and is not empty; choose a new directory for the store")
        from alpr_lib.private_files import private_dir, write_private_atomic  # 0700/0600 whatever the umask

        private_dir(path, tighten_existing=True)  # the store holds plates, hashes and the audit log
        for sub in ("reads", "index", "images"):
            private_dir(path / sub)
        meta = {"store_id": uuid.uuid4().hex, "kind": kind, "name": name or path.name,
                "synthetic": synthetic, "created_at": iso(utc_now())}
        if accounts_store:
            if kind != "training":
                raise StoreError("only a training store shares another store's accounts")
            meta["accounts_store"] = accounts_store
        records_url = None if accounts_store else records_url or os.environ.get("ALPR_RECORDS_URL")
        if records_url:
            meta["records_url"] = records_url
        lines = [f'{k} = {str(v).lower() if isinstance(v, bool) else repr(str(v))}' for k, v in meta.items()]
        write_private_atomic(path / "store.toml", "\n".join(lines).replace("'", '"') + "\n")
        store = cls.open(path)
        with store.db.transaction() as tx:
            owner = meta_rows.get(tx, "store_id")
            if owner is not None and owner != meta["store_id"]:
                raise StoreError(f"the records database {tx.location} already belongs to store {owner}; give "
                                 "each store a database of its own (an empty PostgreSQL database)")
            for key in ("store_id", "kind"):
                meta_rows.put(tx, key, str(meta[key]))
            meta_rows.put(tx, "synthetic", "true" if synthetic else "false")
            for key, value in settings.items():
                settings_rows.put(tx, key, value, meta["created_at"], "alpr init")
        store.synthetic = synthetic
        store.reload_config()
        if not store.audit_key.exists():
            store.audit_key.create()
        return store

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> Store:
        """Open an existing store; ``None`` means ``ALPR_STORE``."""
        store = cls._open(path)
        from alpr_lib.store.layout import check_layout  # it builds on this module

        try:
            check_layout(store)
        except StoreError:
            store.close()
            raise
        return store

    @classmethod
    def _open(cls, path: str | os.PathLike | None = None) -> Store:
        path = resolve_store_path(path)
        meta_path = path / "store.toml"
        meta = _read_meta(path)
        if meta.get("kind") not in STORE_KINDS or not meta.get("store_id"):
            raise StoreError(f"{meta_path} is damaged: it must name a store_id and a kind in {STORE_KINDS}")
        store = cls(path, meta)
        recorded = meta_rows.get_all(store.db)
        for key in ("store_id", "kind"):
            if key in recorded and recorded[key] != str(meta[key]):
                store.close()
                raise StoreError(
                    f"{meta_path} says {key}={meta[key]!r} but the records database {store.db.location} says "
                    f"{recorded[key]!r}; a store and its records database belong together (and a store's kind "
                    "never changes: training and operational data never mix)"
                )
        if "store_id" not in recorded and (path / "reads").exists() and any((path / "reads").iterdir()):
            store.close()
            raise StoreError(f"the records database {store.db.location} is empty but the store {path} holds reads; "
                             "it is not this store's records database (check ALPR_RECORDS_URL / records_url)")
        return store

    def close(self) -> None:
        self.db.close()
        if self.accounts_store is not None:
            self.accounts_store.close()


def open_for_upgrade(path: str | os.PathLike | None) -> Store:
    """Open a store even if its Parquet layout is older (for ``alpr upgrade`` and ``alpr audit verify``)."""
    return Store._open(path)
