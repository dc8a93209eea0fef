"""Evidence export to portable media (policy 462.4): a case's reads with their images, a manifest with the
SHA-256 of every file and a chain-of-custody record; exported reads are placed on hold in the same transaction
that books the package and writes its audit record. Verification names the first changed, missing or added
file; custody transfers are appended to the package and to the store's register, and verified too.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.areas.holds import MAX_IDS_AUDITED, Selection, place_hold, select_reads, selected_reads
from alpr_lib.audit.keys import check_anchor
from alpr_lib.errors import NotFound, ValidationError
from alpr_lib.evidence.package import (
    CUSTODY,
    EvidenceKey,
    PackageCheck,
    append_custody,
    decrypt_package,
    read_manifest,
    verify_package,
    write_package,
)
from alpr_lib.records import Backend
from alpr_lib.records import evidence as evidence_rows
from alpr_lib.records import holds as hold_rows
from alpr_lib.search.plates import RESULT_COLUMNS
from alpr_lib.timeutil import TimeLike, iso, parse_iso, requested_window

__all__ = ["EvidencePackage", "export_package"]


def _secret_default() -> Any:
    return field(default=None, metadata={"secret": True})


@dataclass(frozen=True)
class EvidencePackage:
    """What an export wrote: the folder, its package id, the reads and images in it, and the hold placed."""

    path: Path
    package_id: str
    reads: int
    images: int
    hold_id: str | None
    encrypted: bool
    manifest_sha256: str


def _key(passphrase: str | None, key_file: str | os.PathLike | None) -> EvidenceKey | None:
    if passphrase is None and key_file is None:
        return None
    return EvidenceKey(passphrase=passphrase, key_file=Path(key_file) if key_file is not None else None)


def _out_path(out: str | os.PathLike) -> Path:
    text = os.fspath(out)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ValidationError(f"give a new folder for the package, not {text!r:.80}")
    path = Path(text)
    try:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ValidationError(f"{text[:200]} exists and is not an empty folder; give a new folder")
        if not path.parent.is_dir():
            raise ValidationError(f"the folder above {text[:200]!r} does not exist; create it first")
    except OSError as exc:
        raise ValidationError(f"cannot use {text[:200]!r} for the package: {exc.strerror or exc}") from None
    return path


def _images(ctx: Context, reads: pl.DataFrame) -> dict[str, bytes]:
    images_dir = ctx.store.images_dir.resolve()
    out = {}
    for row in reads.select("read_id", "image_ref").iter_rows(named=True):
        ref = row["image_ref"]
        if not ref or not ref.startswith("store:"):
            continue
        path = (images_dir / ref.removeprefix("store:")).resolve()
        if images_dir in path.parents and path.is_file():
            out[row["read_id"]] = path.read_bytes()
    return out


def _person(ctx: Context) -> dict[str, str]:
    user = ctx.user
    return {"username": user.username, "full_name": user.full_name, "title": user.title,
            "organisation": user.organisation}


def export_package(tx: Backend, ctx: Context, out: Path, reads: pl.DataFrame, *, case_number: str, item: str,
                   reason: str, key: EvidenceKey | None, hold: bool = True, release_id: str | None = None,
                   extra: dict[str, Any] | None = None) -> EvidencePackage:
    """Write a package of ``reads`` to ``out``, book it (and its first custody entry) in ``tx`` and, with
    ``hold``, place the exported reads on hold for the case. The custody record embeds the audit head."""
    package_id = f"E{ctx.now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    reads = reads.sort("captured_at", "read_id")
    columns = [c for c in RESULT_COLUMNS if c in reads.columns and c not in ("match", "substitutions")]
    reads = reads.select(columns)
    images = _images(ctx, reads)
    anchor = ctx.store.audit.signed_head_in(tx)
    meta = {"case_number": case_number, "item": item, "reads": reads.height, "images": len(images),
            "store_id": ctx.store.store_id, **(extra or {})}
    first = {"event": "export", "case_number": case_number, "item": item, "at": iso(ctx.now), "reason": reason,
             "by": _person(ctx), "to": ctx.user.username, "reads": reads.height, "images": len(images),
             "purpose": ctx.purpose, "audit_head": anchor, **({"release_id": release_id} if release_id else {})}
    entry = write_package(out, package_id, reads, images, meta, first, key)
    ids = reads.get_column("read_id").to_list()
    hold_id = place_hold(tx, ctx, case_number=case_number, reason=f"evidence item {item}: {reason}", read_ids=ids,
                         source="evidence") if hold and ids else None
    evidence_rows.add_package(tx, {"package_id": package_id, "case_number": case_number, "item": item,
                                   "reason": reason, "exported_by": ctx.user.username, "exported_at": iso(ctx.now),
                                   "reads": reads.height, "images": len(images), "encrypted": int(key is not None),
                                   "manifest_sha256": entry["manifest_sha256"], "hold_id": hold_id,
                                   "release_id": release_id, "location": str(out.resolve())})
    evidence_rows.add_custody(tx, {"package_id": package_id, "entry": 1, "event": "export", "from_person": None,
                                   "to_person": ctx.user.username, "recorded_by": ctx.user.username,
                                   "recorded_at": iso(ctx.now), "note": reason, "entry_sha256": entry["entry_sha256"]})
    return EvidencePackage(out, package_id, reads.height, len(images), hold_id, key is not None,
                           entry["manifest_sha256"])


@dataclass(frozen=True)
class ExportPlan(Plan):
    selection: Selection
    out: Path
    hold_id: str | None

    def audit_elements(self) -> dict[str, Any]:
        return {**self.selection.audit_elements(), "out": str(self.out)[:500], "from_hold": self.hold_id}


@action("evidence.export", permission="evidence.export", namespace="evidence", method="export",
        needs_purpose=True, needs_case=True, aliases=("export_evidence",), result="EvidencePackage",
        rerun_if_files_move=True)
class ExportEvidence(Request):
    """Export a case's reads to a new folder on portable media: reads.csv and reads.parquet, their images and
    crops, manifest.json (SHA-256 of every file) and custody.jsonl (case, evidence item number, exported by,
    when, why, the audit head). Name the reads by ``plate=`` (with ``start``/``end``), ``hold_id=`` (the reads a
    hold keeps) or ``read_ids=``. The exported reads are placed on hold. ``passphrase=`` or ``key_file=``
    encrypts the package (AES-256-GCM) for media that leaves the building."""

    out: str | os.PathLike
    _: KW_ONLY
    item: str
    reason: str
    plate: str | None = None
    start: TimeLike = None
    end: TimeLike = None
    hold_id: str | None = None
    read_ids: tuple[str, ...] | None = None
    key_file: str | None = None
    passphrase: str | None = _secret_default()
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"out": str(self.out)[:500], "item": self.item, "reason": self.reason, "plate": self.plate,
                **requested_window(self.start, self.end), "hold_id": self.hold_id,
                "read_ids": list(self.read_ids)[:MAX_IDS_AUDITED] if self.read_ids else None,
                "encrypted": self.key_file is not None or self.passphrase is not None}

    def plan(self, ctx: Context) -> ExportPlan:
        if not self.item.strip() or not self.reason.strip():
            raise ValidationError("an evidence export needs the evidence item number (item=) and a reason (reason=)")
        _key(self.passphrase, self.key_file)  # a bad key choice is refused before anything is read
        ids = self.read_ids
        if self.hold_id is not None:
            if self.plate is not None or self.read_ids is not None:
                raise ValidationError("name the reads one way: plate=, hold_id= or read_ids=")
            hold = hold_rows.get(ctx.db, self.hold_id)
            if hold is None:
                raise NotFound(f"no hold {self.hold_id[:60]!r}; `alpr holds list` shows the holds")
            if hold["plate"]:
                selection = Selection(hold["plate"], parse_iso(hold["start_at"]) if hold["start_at"] else None,
                                      parse_iso(hold["end_at"]) if hold["end_at"] else None, ())
                return ExportPlan(selection, _out_path(self.out), self.hold_id)
            ids = tuple(hold_rows.read_ids_of(ctx.db, self.hold_id))
            if not ids:
                raise ValidationError(f"hold {self.hold_id} holds no read")
        selection = select_reads(ctx, self.plate, self.start, self.end, ids, None, what="an evidence export")
        return ExportPlan(selection, _out_path(self.out), self.hold_id)

    def work(self, ctx: Context, plan: ExportPlan) -> Result:
        reads = selected_reads(ctx, plan.selection)
        if reads.height == 0:
            raise NotFound("no stored read matches; nothing to export (check the plate and the window)")
        with ctx.db.transaction() as tx:
            package = export_package(tx, ctx, plan.out, reads, case_number=str(ctx.case_number),
                                     item=self.item.strip(), reason=self.reason.strip(),
                                     key=_key(self.passphrase, self.key_file))
            ids = sorted(reads.get_column("read_id").to_list())
            result = Result(package, package.reads, {
                "package_id": package.package_id, "hold_id": package.hold_id, "images": package.images,
                "manifest_sha256": package.manifest_sha256, "read_ids": ids[:MAX_IDS_AUDITED],
                "read_ids_count": len(ids)})
            ctx.audit_in(tx, result)  # the package's booking, its hold and its record commit together
        return result


def _folder(path: str | os.PathLike) -> Path:
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ValidationError(f"give the evidence package's folder, not {text!r:.80}")
    try:
        if not Path(text).is_dir():
            raise ValidationError(f"{text[:200]} is not a folder; give the evidence package's folder")
    except OSError as exc:
        raise ValidationError(f"cannot use {text[:200]!r} as a package folder: {exc.strerror or exc}") from None
    return Path(text)


@dataclass(frozen=True)
class StoreCheck:
    """A package checked by the store that wrote it: the files, the custody record against the store's
    register, and the audit head against the store's audit key."""

    package: PackageCheck
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.package.ok and not self.problems

    @property
    def problem(self) -> str | None:
        return self.package.problem or (self.problems[0] if self.problems else None)

    def __str__(self) -> str:
        if self.ok:
            return str(self.package) + "; custody matches the store's register; audit head signature good"
        lines = [*self.package.problems, *self.problems]
        return "EVIDENCE PACKAGE NOT INTACT:\n" + "\n".join(f"  - {p}" for p in lines)


def _store_problems(ctx: Context, check: PackageCheck) -> list[str]:
    problems: list[str] = []
    if check.package_id is None:
        return problems
    booked = evidence_rows.get_package(ctx.db, str(check.package_id))
    if booked is None:
        return [f"package {check.package_id} is not in this store's evidence register (another store's package?)"]
    register = evidence_rows.custody(ctx.db, str(check.package_id))
    in_file = [e.get("entry_sha256") for e in check.custody]
    in_store = [r["entry_sha256"] for r in register]
    if in_file[:len(in_store)] != in_store:
        problems.append(f"changed file: {CUSTODY} (its entries differ from the store's custody register)")
    elif len(in_file) > len(in_store):
        problems.append(f"{CUSTODY} holds {len(in_file) - len(in_store)} transfer(s) the store never recorded "
                        "(record transfers with `alpr evidence transfer`)")
    elif len(in_file) < len(in_store):
        problems.append(f"changed file: {CUSTODY} (the store recorded {len(in_store)} custody entries, the package "
                        f"holds {len(in_file)})")
    if check.custody:
        anchor = check.custody[0].get("audit_head")
        keys = list(ctx.store.audit_key.ring().values())
        if all(check_anchor(k, anchor) is not None for k in keys):
            problems.append("the audit head in the chain of custody is not signed with this store's audit key")
    return problems


@action("evidence.verify", permission="evidence.verify", namespace="evidence", method="verify", needs_training=False,
        aliases=("verify_evidence",), result="StoreCheck")
class VerifyEvidence(Request):
    """Check an evidence package: every file against its manifest (the first changed, missing or added file
    is named), the chain of custody entry by entry and against this store's register, and the audit head's
    signature. Give the passphrase or key file to check an encrypted package's contents too."""

    path: str | os.PathLike
    _: KW_ONLY
    key_file: str | None = None
    passphrase: str | None = _secret_default()

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)[:500]}

    def work(self, ctx: Context, plan: Plan) -> Result:
        check = verify_package(_folder(self.path), _key(self.passphrase, self.key_file))
        found = StoreCheck(check, tuple(_store_problems(ctx, check)))
        return Result(found, int(found.ok), {"package_id": check.package_id, "intact": found.ok,
                                             "first_problem": found.problem})


@action("evidence.transfer", permission="evidence.export", namespace="evidence", method="transfer",
        needs_training=False, aliases=("transfer_evidence",), result="dict")
class TransferEvidence(Request):
    """Record a custody transfer of a package (e.g. to the property room): appended to its custody.jsonl and
    to the store's register, chained to the entry before it."""

    path: str | os.PathLike
    to_person: str
    _: KW_ONLY
    note: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)[:500], "to_person": self.to_person, "note": self.note}

    def work(self, ctx: Context, plan: Plan) -> Result:
        folder = _folder(self.path)
        if not self.to_person.strip():
            raise ValidationError("name who receives the package (to_person=)")
        manifest = read_manifest(folder)
        package_id = str(manifest.get("package_id"))
        with ctx.db.transaction() as tx:
            if evidence_rows.get_package(tx, package_id) is None:
                raise NotFound(f"package {package_id[:60]} is not in this store's evidence register")
            check = verify_package(folder)
            if not check.ok:
                raise ValidationError(f"the package does not verify ({check.problem}); a transfer is recorded only "
                                      "on an intact package")
            previous = check.custody[-1] if check.custody else {}
            entry = append_custody(folder, {"event": "transfer", "at": iso(ctx.now), "by": _person(ctx),
                                            "from": previous.get("to"), "to": self.to_person.strip(),
                                            "note": self.note})
            evidence_rows.add_custody(tx, {"package_id": package_id, "entry": entry["entry"], "event": "transfer",
                                           "from_person": entry["from"], "to_person": entry["to"],
                                           "recorded_by": ctx.user.username, "recorded_at": iso(ctx.now),
                                           "note": self.note, "entry_sha256": entry["entry_sha256"]})
            result = Result(entry, 1, {"package_id": package_id, "entry": entry["entry"]})
            ctx.audit_in(tx, result)
        return result


@action("evidence.decrypt", permission="evidence.export", namespace="evidence", method="decrypt",
        needs_purpose=True, result="Path")
class DecryptEvidence(Request):
    """Write an encrypted package's contents (after verifying it) to a new folder; audited, as it reveals reads."""

    path: str | os.PathLike
    out: str | os.PathLike
    _: KW_ONLY
    key_file: str | None = None
    passphrase: str | None = _secret_default()
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)[:500], "out": str(self.out)[:500]}

    def work(self, ctx: Context, plan: Plan) -> Result:
        key = _key(self.passphrase, self.key_file)
        if key is None:
            raise ValidationError("give the package's passphrase or key file")
        target = decrypt_package(_folder(self.path), _out_path(self.out), key)
        return Result(target, 1, {"out": str(target)})


@action("evidence.packages", permission="evidence.verify", namespace="evidence", method="packages",
        needs_training=False, result="polars.DataFrame")
class ListPackages(Request):
    """The evidence register: every package exported, with case, item, reads, who, when and where."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = evidence_rows.all_packages(ctx.db)
        schema = {c: pl.Int64 if c in ("reads", "images", "encrypted") else pl.String
                  for c in evidence_rows.PACKAGE_COLUMNS}
        frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
        return Result(frame, frame.height)

