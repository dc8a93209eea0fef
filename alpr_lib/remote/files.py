"""Files named in a call, over the API: the service never opens a path a client chose.

Which arguments name files is read from the registry, so an action added later is carried by itself:

- a request field whose declared type admits ``os.PathLike`` (or a ``pathlib`` path): an input file (a CSV to
  ingest), an output file or file stem (an audit export, a case-file export), or a folder to write into;
- a field marked :func:`alpr_lib.access.actions.local_files`: a mapping or list whose values may name files
  (``reads.ingest``'s ``images``);
- a field taking text whose name says it is a file or folder (``path``, ``out``, ``key_file``, ``*_dir``...).

The client turns each such value that is text or a path into a ``$local`` object describing the thing on its
own machine: an existing file travels with its bytes, an existing folder with the files in it (an evidence
package to verify), a name that does not exist as a name (and whether its folder exists). The service recreates
each one inside a private temporary directory of its own — ``<tmp>/<slot>/<name>`` — and gives the action that
path. After the work, every file the action created or changed under a slot comes back with the answer, and the
client writes it where the action would have written it locally (``0600``, atomically, never through a
symlink). Paths in the result and in error messages are mapped back to what the client gave. A plain text value
in such a field, sent by anything but this client, is refused (and audited): the service cannot tell the
client's files from its own. Actions that must not send their files to a client at all (a backup holds the
audit keys) are refused by the service (:data:`alpr_lib.server.app.SERVER_ONLY`).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import shutil
import tempfile
import types
import typing
from pathlib import Path, PurePath
from typing import Any

from alpr_lib.errors import ValidationError

__all__ = ["MAX_FILE_BYTES", "ClientFiles", "ServerFiles", "file_fields"]

#: the largest file one call uploads or gets back (a large CSV of reads is better ingested on the server with
#: `alpr ingest`, by the service account)
MAX_FILE_BYTES = 512 * 1024 * 1024
#: the most files one call's output slots may hold
MAX_FILES = 10_000


def _admits_path(hint: Any) -> bool:
    if hint in (os.PathLike, Path, PurePath) or (isinstance(hint, type) and issubclass(hint, PurePath)):
        return True
    if typing.get_origin(hint) is os.PathLike:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_admits_path(h) for h in typing.get_args(hint))
    return False


#: text fields named like these name a file or folder too (``key_file``, ``path: str | None``)
_PATH_NAMES = ("path", "file", "dir", "folder", "directory", "out")
_PATH_SUFFIXES = ("_path", "_file", "_dir", "_folder", "_directory")


def _admits_text(hint: Any) -> bool:
    if hint is str:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_admits_text(h) for h in typing.get_args(hint))
    return False


def file_fields(spec: Any) -> dict[str, str]:
    """The request fields of an action that name files: ``"path"`` (the value itself), ``"text"`` (the value
    itself, a path given as text) or ``"values"`` (the values inside a mapping or list). A field names a file
    when its type admits ``os.PathLike``, when it is marked :func:`~alpr_lib.access.actions.local_files`, or
    when it takes text and is named like a file (``path``, ``out``, ``key_file``, ``*_dir``...)."""
    from alpr_lib.access.arguments import _hints

    hints = _hints(spec.request)
    out: dict[str, str] = {}
    for f in dataclasses.fields(spec.request):
        if f.metadata.get("local_files"):
            out[f.name] = "values"
        elif _admits_path(hints.get(f.name)):
            out[f.name] = "path"
        elif _admits_text(hints.get(f.name)) and (f.name in _PATH_NAMES or f.name.endswith(_PATH_SUFFIXES)):
            out[f.name] = "text"  # the action is given the path as text
    return out


# ---------------------------------------------------------------------------------------------- the client
def _folder_files(folder: Path, given: str) -> list[dict[str, str]]:
    """Every regular file under a folder the client names (an evidence package to verify or add a custody
    entry to), with its bytes; symbolic links are left out, as a copy would leave them."""
    files, total = [], 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_FILE_BYTES or len(files) >= MAX_FILES:
            raise ValidationError(f"the folder {given[:200]} holds more than {MAX_FILE_BYTES:,} bytes or "
                                  f"{MAX_FILES:,} files; that is more than travels to the ALPR service in one call")
        files.append({"path": path.relative_to(folder).as_posix(), "data": base64.b64encode(data).decode("ascii")})
    return files


class ClientFiles:
    """The client's side of one call: ``$local`` objects out, returned files written back."""

    def __init__(self) -> None:
        self.slots: list[dict[str, Any]] = []

    def pack(self, spec: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with every file-naming value replaced by a ``$local`` object."""
        fields = file_fields(spec)
        out = dict(kwargs)
        for name, kind in fields.items():
            if name not in out:
                continue
            value = out[name]
            if kind in ("path", "text"):
                out[name] = self._slot(value) if isinstance(value, str | os.PathLike) else value
            elif isinstance(value, dict):
                out[name] = {k: self._slot(v) if isinstance(v, str | os.PathLike) else v for k, v in value.items()}
            elif isinstance(value, list | tuple):
                out[name] = type(value)(self._slot(v) if isinstance(v, str | os.PathLike) else v for v in value)
        return out

    def _slot(self, value: str | os.PathLike) -> Any:
        given = os.fspath(value)
        if not isinstance(given, str):
            return value  # bytes paths: let the action refuse it as it would locally
        slot: dict[str, Any] = {"slot": len(self.slots), "given": given}
        try:
            local = Path(given).expanduser()
            if local.name in ("", ".", "..") or not given.strip():
                local = local.resolve()
            slot["name"] = local.name
            root = Path(given).parent if Path(given).name not in ("", ".", "..") else local.parent
            slot["root"] = str(root)
            if local.is_file():
                size = local.stat().st_size
                if size > MAX_FILE_BYTES:
                    raise ValidationError(f"{given[:200]} is {size:,} bytes; at most {MAX_FILE_BYTES:,} travel to "
                                          "the ALPR service in one call (ask the administrator to ingest it on "
                                          "the server with `alpr ingest`)")
                data = local.read_bytes()
                slot.update(kind="file", data=base64.b64encode(data).decode("ascii"))
            elif local.is_dir():
                slot.update(kind="dir", files=_folder_files(local, given))
            else:
                slot.update(kind="absent", parent=local.parent.is_dir())
        except OSError as exc:  # a name longer than the file system allows, a file we may not read
            slot.update(kind="unusable", reason=exc.strerror or str(exc), name=slot.get("name") or "x", root=".")
        self.slots.append(slot)
        from alpr_lib.remote.wire import Local

        return Local(slot)

    def write_back(self, files: list[dict[str, Any]]) -> None:
        """Write the files the action made where it would have made them here (0600, atomic, no symlinks)."""
        from alpr_lib.private_files import write_private_atomic

        for item in files:
            slot = self.slots[int(item["slot"])]
            rel = PurePath(item["path"])
            if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                raise ValidationError(f"the ALPR service returned an unsafe file name {item['path'][:80]!r}")
            target = Path(slot["root"]).expanduser() / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private_atomic(target, base64.b64decode(item["data"]))


# ---------------------------------------------------------------------------------------------- the service
class ServerFiles:
    """The service's side of one call: ``$local`` objects become paths in a private temporary directory."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._dir: Path | None = None  # made for the first file of the call (most calls have none)
        self.slots: dict[int, dict[str, Any]] = {}
        self._uploaded: dict[Path, str] = {}

    @property
    def dir(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="call-", dir=self._base))
            os.chmod(self._dir, 0o700)
        return self._dir

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def materialise(self, body: Any) -> Path:
        """The path the action gets for one ``$local`` object (called by the decoder)."""
        if (not isinstance(body, dict) or not isinstance(body.get("slot"), int) or isinstance(body.get("slot"), bool)
                or not isinstance(body.get("name"), str)):
            raise ValidationError("a $local file needs its slot number and name")
        number = body["slot"]
        if number in self.slots or not 0 <= number < 1000:
            raise ValidationError(f"$local slot {number} is given twice or out of range")
        name = body["name"]
        if not name or name in (".", "..") or "/" in name or "\x00" in name or len(name) > 255:
            raise ValidationError(f"{name[:80]!r} is not a file name")
        given = body.get("given") if isinstance(body.get("given"), str) else name
        root = body.get("root") if isinstance(body.get("root"), str) else "."
        slot_dir = self.dir / str(number)
        slot_dir.mkdir(mode=0o700)
        path = slot_dir / name
        kind = body.get("kind")
        if kind == "file":
            try:
                data = base64.b64decode(body.get("data") or "", validate=True) if isinstance(body.get("data"), str) \
                    else b""
            except ValueError:
                raise ValidationError(f"the content of {given[:200]!r} is not valid base64") from None
            path.write_bytes(data)
            os.chmod(path, 0o600)
            self._uploaded[path] = hashlib.sha256(data).hexdigest()
        elif kind == "dir":
            path.mkdir(mode=0o700)
            for item in body.get("files") or []:
                self._unpack(path, item, given)
        elif kind == "absent":
            if not body.get("parent"):
                path = slot_dir / "missing-folder" / name  # the action says the folder does not exist
        elif kind == "unusable":
            reason = str(body.get("reason") or "cannot be used")[:200]
            raise ValidationError(f"cannot use {given[:200]!r}: {reason}")
        else:
            raise ValidationError(f"$local kind must be file, dir or absent, not {str(kind)[:40]!r}")
        self.slots[number] = {"dir": slot_dir, "path": path, "given": given, "root": root}
        return path

    def _unpack(self, folder: Path, item: Any, given: str) -> None:
        """One file of an uploaded folder, inside it (a name that would leave it is refused)."""
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not isinstance(item.get("data"),
                                                                                                 str):
            raise ValidationError(f"a file of the folder {given[:200]!r} needs its path and data")
        rel = PurePath(item["path"])
        if (rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") or "\x00" in p for p in rel.parts)
                or len(rel.parts) > 32):
            raise ValidationError(f"{item['path'][:80]!r} is not a file name inside {given[:200]!r}")
        try:
            data = base64.b64decode(item["data"], validate=True)
        except ValueError:
            raise ValidationError(f"the content of {item['path'][:80]!r} is not valid base64") from None
        target = folder / rel
        if target.exists():
            raise ValidationError(f"{item['path'][:80]!r} is given twice in {given[:200]!r}")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.write_bytes(data)
        os.chmod(target, 0o600)
        self._uploaded[target] = hashlib.sha256(data).hexdigest()

    def collect(self) -> list[dict[str, Any]]:
        """Every file the action created or changed under the slots, to go back to the client."""
        out: list[dict[str, Any]] = []
        total = 0
        for number, slot in self.slots.items():
            for path in sorted(slot["dir"].rglob("*")):
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
                if self._uploaded.get(path) == hashlib.sha256(data).hexdigest():
                    continue  # an input file the action only read
                total += len(data)
                if total > MAX_FILE_BYTES or len(out) >= MAX_FILES:
                    raise ValidationError(f"the files this call wrote are more than {MAX_FILE_BYTES:,} bytes or "
                                          f"{MAX_FILES:,} files; export less at a time")
                rel = path.relative_to(slot["dir"])
                if rel.parts and rel.parts[0] == "missing-folder":
                    continue
                out.append({"slot": number, "path": rel.as_posix(),
                            "data": base64.b64encode(data).decode("ascii")})
        return out

    def _pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for slot in self.slots.values():
            pairs.append((str(slot["path"]), slot["given"]))
            pairs.append((str(slot["dir"] / "missing-folder"), str(Path(slot["given"]).parent)))
            pairs.append((str(slot["dir"]), slot["root"]))
        pairs.append((str(self.dir), "(temporary folder)"))
        return sorted(pairs, key=lambda p: -len(p[0]))

    def rewrite_text(self, text: str) -> str:
        """``text`` (an error message) with the service's paths put back as the client gave them."""
        if not self.slots:
            return text
        for server, local in self._pairs():
            text = text.replace(server, local)
        return text

    def rewrite(self, value: Any) -> Any:
        """A result with the service's paths mapped to the client's (paths inside dataclasses too)."""
        if not self.slots:
            return value
        if isinstance(value, PurePath):
            text = str(value)
            for slot in self.slots.values():
                base = str(slot["dir"])
                if text == base or text.startswith(base + os.sep):
                    return Path(slot["root"]) / Path(text).relative_to(base)
            return value
        if isinstance(value, str):
            return self.rewrite_text(value) if str(self.dir) in value else value
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.rewrite(v) for v in value)
        if isinstance(value, dict):
            return {k: self.rewrite(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self.rewrite(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            try:
                return dataclasses.replace(value, **changes)
            except (TypeError, ValueError):
                return value
        return value
