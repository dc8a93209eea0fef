"""Evidence packages on portable media (policy 462.4: data that is or will become evidence is downloaded to
portable media and booked into evidence).

A package is a folder::

    reads.csv, reads.parquet     the reads (every stored column)
    images/<read_id>.<ext>       their stored plate images (the crops)
    manifest.json                the SHA-256 and size of every file above
    custody.jsonl                the chain of custody: the export, then each transfer, one JSON line each

The first custody entry names the case, the evidence item number, who exported it, when, why, the SHA-256 of
``manifest.json`` and the store's signed audit head at export; every entry carries the SHA-256 of the one
before it and its own, so an edited, removed or reordered entry is caught. :func:`verify_package` names the
first changed, missing or added file.

An encrypted package (for media that leaves the building; CJIS asks for encrypted portable media) holds the same
files in one AES-256-GCM-encrypted tar, ``package.enc``, beside ``encryption.json`` (algorithm, key derivation
and its salt, nonce; never the key) and the clear ``manifest.json`` and ``custody.jsonl`` (which hold no read
data). The key comes from a passphrase (scrypt) or a random 256-bit key file written 0600; see
docs/records-management.md for how each is handled.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.errors import ValidationError
from alpr_lib.private_files import private_dir, write_private_atomic

__all__ = ["CUSTODY", "MANIFEST", "EvidenceKey", "PackageCheck", "append_custody", "custody_entries",
           "decrypt_package", "entry_digest", "read_manifest", "verify_package", "write_package"]

MANIFEST = "manifest.json"
CUSTODY = "custody.jsonl"
ENCRYPTED = "package.enc"
ENCRYPTION = "encryption.json"
KIND = "alpr-evidence-package"
GENESIS = "0" * 64
#: scrypt cost for a passphrase (32 MiB, ~0.1 s): slow enough against guessing, fast enough to open media
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_digest(entry: dict[str, Any]) -> str:
    """The SHA-256 of a custody entry without its own ``entry_sha256``."""
    return _sha256(_canonical({k: v for k, v in entry.items() if k != "entry_sha256"}))


@dataclass(frozen=True)
class EvidenceKey:
    """The key of an encrypted package: from a passphrase (scrypt) or a key file (32 random bytes, hex)."""

    passphrase: str | None = field(default=None, repr=False)
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.passphrase is None) == (self.key_file is None):
            raise ValidationError("give either a passphrase or a key file for an encrypted package, not both")
        if self.passphrase is not None and len(self.passphrase) < 12:
            raise ValidationError("an evidence passphrase needs at least 12 characters")

    def for_new_package(self) -> tuple[bytes, dict[str, Any]]:
        """The key and the key-derivation parameters to record (a missing key file is created, 0600)."""
        if self.passphrase is not None:
            salt = secrets.token_bytes(16)
            return self._scrypt(salt, SCRYPT), {"kdf": "scrypt", "salt": salt.hex(), **SCRYPT}
        assert self.key_file is not None
        try:
            if not self.key_file.exists():
                write_private_atomic(self.key_file, secrets.token_bytes(32).hex() + "\n")
        except OSError as exc:
            raise ValidationError(f"cannot create the key file {str(self.key_file)[:200]}: {exc.strerror or exc}") \
                from None
        return self._read_key_file(), {"kdf": "key-file"}

    def for_package(self, params: dict[str, Any]) -> bytes:
        if params.get("kdf") == "scrypt":
            if self.passphrase is None:
                raise ValidationError("this package was encrypted with a passphrase: give the passphrase")
            return self._scrypt(bytes.fromhex(str(params["salt"])), {k: int(params[k]) for k in ("n", "r", "p")})
        if self.key_file is None:
            raise ValidationError("this package was encrypted with a key file: give the key file")
        return self._read_key_file()

    def _scrypt(self, salt: bytes, cost: dict[str, int]) -> bytes:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        assert self.passphrase is not None
        return Scrypt(salt=salt, length=32, **cost).derive(self.passphrase.encode())

    def _read_key_file(self) -> bytes:
        assert self.key_file is not None
        try:
            key = bytes.fromhex(self.key_file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise ValidationError(f"cannot read the key file {self.key_file}: {exc}") from None
        if len(key) != 32:
            raise ValidationError(f"the key file {self.key_file} does not hold a 256-bit key (64 hex digits)")
        return key


def key_fingerprint(key: bytes) -> str:
    return _sha256(b"alpr-evidence-key|" + key)[:16]


def _content_files(reads: pl.DataFrame, images: dict[str, bytes]) -> dict[str, bytes]:
    """The package's files (path -> bytes): reads as CSV and Parquet, and the images."""
    parquet = io.BytesIO()
    reads.write_parquet(parquet)
    csv = reads.with_columns(pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S%.6f%:z") for c, t in reads.schema.items()
                             if isinstance(t, pl.Datetime)).write_csv()
    files = {"reads.csv": csv.encode(), "reads.parquet": parquet.getvalue()}
    for read_id, data in sorted(images.items()):
        suffix = ".png" if data[:8] == b"\x89PNG\r\n\x1a\n" else ".jpg"
        files[f"images/{_safe_name(read_id)}{suffix}"] = data
    return files


def _safe_name(read_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in read_id).lstrip(".")
    return safe[:120] or "read"


def _manifest(package_id: str, meta: dict[str, Any], files: dict[str, bytes]) -> bytes:
    body = {"kind": KIND, "version": 1, "package_id": package_id, **meta,
            "files": [{"path": p, "sha256": _sha256(d), "bytes": len(d)} for p, d in sorted(files.items())]}
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o600, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith("/") or ".." in member.name.split("/"):
                raise ValidationError(f"the encrypted package holds an unsafe entry {member.name!r}")
            handle = tar.extractfile(member)
            assert handle is not None
            files[member.name] = handle.read()
    return files


def _prepare_out(out: Path) -> Path:
    try:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValidationError(f"{out} exists and is not an empty folder; give a new folder for the package")
        return private_dir(out)
    except OSError as exc:
        raise ValidationError(f"cannot create the package folder {str(out)[:200]!r}: {exc.strerror or exc}") from None


def write_package(out: Path, package_id: str, reads: pl.DataFrame, images: dict[str, bytes],
                  meta: dict[str, Any], first_entry: dict[str, Any], key: EvidenceKey | None = None
                  ) -> dict[str, Any]:
    """Write a package to the new folder ``out``; returns the first custody entry as written (with the
    manifest's SHA-256 and its own). ``meta`` goes into the manifest (case, item, counts)."""
    out = _prepare_out(out)
    files = _content_files(reads, images)
    if key is not None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        inner = {**files, MANIFEST: _manifest(package_id, meta, files)}
        secret, params = key.for_new_package()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(secret).encrypt(nonce, _tar(inner), package_id.encode())
        info = {"algorithm": "AES-256-GCM", "nonce": nonce.hex(), "associated_data": "package_id",
                "key_fingerprint": key_fingerprint(secret), **params}
        files = {ENCRYPTED: sealed, ENCRYPTION: (json.dumps(info, indent=2, sort_keys=True) + "\n").encode()}
    manifest = _manifest(package_id, {**meta, "encrypted": key is not None}, files)
    for path, data in files.items():
        write_private_atomic(out / path, data)
    write_private_atomic(out / MANIFEST, manifest)
    entry = {**first_entry, "entry": 1, "package_id": package_id, "manifest_sha256": _sha256(manifest),
             "prev_sha256": GENESIS}
    entry["entry_sha256"] = entry_digest(entry)
    write_private_atomic(out / CUSTODY, json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
    return entry


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise ValidationError(f"{folder} is not an evidence package: {MANIFEST} is missing") from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{folder / MANIFEST} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise ValidationError(f"{folder / MANIFEST} is not an ALPR evidence package manifest")
    return manifest


def custody_entries(folder: Path) -> list[dict[str, Any]]:
    """The custody entries as written (unchecked; :func:`verify_package` checks them)."""
    path = folder / CUSTODY
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"unreadable": line[:200]})
    return out


def append_custody(folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Append a transfer to the package's custody record (after checking the package); returns it as written."""
    check = verify_package(folder)
    if not check.ok:
        raise ValidationError(f"the package does not verify ({check.problem}); a custody transfer is recorded "
                              "only on an intact package")
    entries = custody_entries(folder)
    last = entries[-1]
    written = {**entry, "entry": int(last["entry"]) + 1, "package_id": last["package_id"],
               "manifest_sha256": last["manifest_sha256"], "prev_sha256": last["entry_sha256"]}
    written["entry_sha256"] = entry_digest(written)
    text = (folder / CUSTODY).read_text(encoding="utf-8")
    write_private_atomic(folder / CUSTODY, text + json.dumps(written, sort_keys=True, ensure_ascii=False) + "\n")
    return written


@dataclass(frozen=True)
class PackageCheck:
    """What :func:`verify_package` found: ``problems`` in order (the first names the first bad file)."""

    folder: str
    package_id: str | None
    files: int
    custody_entries: int
    encrypted: bool
    contents_checked: bool
    problems: tuple[str, ...] = ()
    custody: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str | None:
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        if self.ok:
            extra = "" if self.contents_checked else " (encrypted contents not checked: give the key to check them)"
            return (f"evidence package {self.package_id} intact: {self.files} files match the manifest, "
                    f"{self.custody_entries} custody entries verified{extra}")
        return "EVIDENCE PACKAGE NOT INTACT:\n" + "\n".join(f"  - {p}" for p in self.problems)


def _check_files(manifest: dict[str, Any], files: dict[str, bytes] | Path, skip: set[str]) -> list[str]:
    """Changed and missing files of the manifest, then added ones, in path order."""
    problems = []
    listed = {}
    for item in manifest.get("files", []):
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            listed[item["path"]] = str(item.get("sha256"))
    if isinstance(files, Path):
        root = files
        present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}

        def read(path: str) -> bytes:
            return (root / path).read_bytes()
    else:
        mapping = files
        present = set(mapping)

        def read(path: str) -> bytes:
            return mapping[path]
    for path in sorted(listed):
        if path not in present:
            problems.append(f"missing file: {path}")
            continue
        try:
            data = read(path)
        except OSError as exc:
            problems.append(f"unreadable file: {path} ({exc.strerror or exc})")
            continue
        if _sha256(data) != listed[path]:
            problems.append(f"changed file: {path} (its SHA-256 differs from the manifest)")
    for path in sorted(present - set(listed) - skip):
        problems.append(f"added file: {path} (not in the manifest)")
    return problems


def _check_custody(folder: Path, manifest_bytes: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    entries = custody_entries(folder)
    if not (folder / CUSTODY).is_file():
        return [f"missing file: {CUSTODY} (the chain of custody)"], []
    if not entries:
        return [f"changed file: {CUSTODY} (it holds no entry)"], []
    problems = []
    prev = GENESIS
    for number, entry in enumerate(entries, start=1):
        if "unreadable" in entry or entry.get("entry") != number:
            problems.append(f"changed file: {CUSTODY} (entry {number} is unreadable or out of order)")
            break
        if entry.get("entry_sha256") != entry_digest(entry):
            problems.append(f"changed file: {CUSTODY} (entry {number} was edited)")
            break
        if entry.get("prev_sha256") != prev:
            problems.append(f"changed file: {CUSTODY} (entry {number} does not follow entry {number - 1}: an entry "
                            "was removed or replaced)")
            break
        if entry.get("manifest_sha256") != _sha256(manifest_bytes):
            problems.append(f"changed file: {MANIFEST} (its SHA-256 differs from the one in the chain of custody)")
            break
        prev = entry["entry_sha256"]
    return problems, entries


def verify_package(folder: str | os.PathLike, key: EvidenceKey | None = None) -> PackageCheck:
    """Check every file of a package against its manifest, the manifest against the chain of custody, and
    each custody entry against the one before. With ``key``, an encrypted package's contents too."""
    folder = Path(folder)
    try:
        is_dir = folder.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        raise ValidationError(f"{str(folder)[:200]} is not a folder; give the evidence package's folder")
    manifest = read_manifest(folder)
    manifest_bytes = (folder / MANIFEST).read_bytes()
    problems = _check_files(manifest, folder, {MANIFEST, CUSTODY})
    custody_problems, entries = _check_custody(folder, manifest_bytes)
    problems += custody_problems
    encrypted = bool(manifest.get("encrypted"))
    checked = not encrypted
    if encrypted and key is not None and not problems:
        problems += _check_encrypted(folder, manifest, key)
        checked = True
    return PackageCheck(str(folder), manifest.get("package_id"), len(manifest.get("files", [])), len(entries),
                        encrypted, checked, tuple(problems), tuple(entries))


def _open_encrypted(folder: Path, manifest: dict[str, Any], key: EvidenceKey) -> dict[str, bytes]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    info = json.loads((folder / ENCRYPTION).read_text())
    secret = key.for_package(info)
    if key_fingerprint(secret) != info.get("key_fingerprint"):
        raise ValidationError("this key does not open the package (its fingerprint differs): give the package's "
                              "own passphrase or key file")
    try:
        plain = AESGCM(secret).decrypt(bytes.fromhex(info["nonce"]), (folder / ENCRYPTED).read_bytes(),
                                       str(manifest.get("package_id")).encode())
    except InvalidTag:
        raise ValidationError(f"changed file: {ENCRYPTED} (it does not decrypt: altered or damaged)") from None
    return _untar(plain)


def _check_encrypted(folder: Path, manifest: dict[str, Any], key: EvidenceKey) -> list[str]:
    try:
        inner = _open_encrypted(folder, manifest, key)
    except ValidationError as exc:
        return [str(exc)]
    try:
        inner_manifest = json.loads(inner[MANIFEST])
    except (KeyError, ValueError):
        return [f"changed file: {ENCRYPTED} (its inner {MANIFEST} is missing or unreadable)"]
    return [f"inside {ENCRYPTED}: {p}" for p in _check_files(inner_manifest, inner, {MANIFEST})]


def decrypt_package(folder: str | os.PathLike, out: str | os.PathLike, key: EvidenceKey) -> Path:
    """Write an encrypted package's contents (reads, images, inner manifest) to the new folder ``out``."""
    folder, target = Path(folder), Path(out)
    check = verify_package(folder, key)
    if not check.ok:
        raise ValidationError(f"the package does not verify: {check.problem}")
    if not check.encrypted:
        raise ValidationError(f"{folder} is not encrypted; its files can be read as they are")
    target = _prepare_out(target)
    for path, data in _open_encrypted(folder, read_manifest(folder), key).items():
        write_private_atomic(target / path, data)
    return target
