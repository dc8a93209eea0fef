"""File modes (issue 10, item 9): whatever holds plates, password hashes or audit data is 0600 (directories
0700) whatever the umask: the store tree, records.db and its WAL files, and every file the CLI or the library
exports. Each test runs under the usual umask 022 and under a permissive umask 0."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from alpr_lib.cli.main import cli
from alpr_lib.private_files import (
    UnsafeFileError,
    atomic_private_path,
    open_private,
    private_dir,
    write_private_atomic,
    write_private_text,
)
from alpr_lib.store.store import Store
from tests.conftest import StoreKit, make_kit, random_reads

CASE = ("--purpose", "criminal investigation", "--case", "24-001234")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def offenders(root: Path) -> list[str]:
    """Every directory under (and including) ``root`` that is not 0700 and every file that is not 0600."""
    bad = []
    for directory, _subdirs, files in os.walk(root):
        here = Path(directory)
        if mode(here) != 0o700:
            bad.append(f"{here} is {oct(mode(here))}")
        for name in files:
            path = here / name
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                bad.append(f"{path} is not a regular file")
            elif stat.S_IMODE(info.st_mode) != 0o600:
                bad.append(f"{path} is {oct(stat.S_IMODE(info.st_mode))}")
    return bad


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


@pytest.fixture
def kit(umask: int, tmp_path: Path) -> StoreKit:
    """A store made, filled (with images) and compacted under ``umask``."""
    kit = make_kit(tmp_path / "store")
    svc = kit.login("ingest")
    jpeg = tmp_path / "crop.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg-bytes")
    for seed in range(3):
        reads = random_reads(60, seed=seed, prefix=f"M{seed}", plates=["7ABK123", "7ABC123", "8XYZ999"])
        images = {reads["read_id"][0]: jpeg, reads["read_id"][1]: b"\x89PNG\r\n\x1a\nrest"}
        report = svc.ingest_reads(reads, progress=False, images=images)
        assert report.ingested == 60
    svc.compact_store(progress=False)
    return kit


@pytest.fixture
def run(kit: StoreKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``run("auditor", "audit export", "-o", FILE)``: the command as ``user``, on the kit's store."""
    def invoke(user: str, command: str, *args: str):
        secret = tmp_path / f"{user}.pw"
        secret.write_text(kit.passwords[user] + "\n")
        secret.chmod(0o600)
        monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
        return CliRunner().invoke(cli, [*command.split(), "--store", str(kit.path), "--user", user, *args])
    return invoke


def stale(path: Path) -> Path:
    """A file already there, readable by everyone (as an older release or another tool left it)."""
    path.write_text("stale\n")
    path.chmod(0o644)
    assert mode(path) == 0o644
    return path


def test_the_whole_store_tree_is_private(kit: StoreKit) -> None:
    store = Store.open(kit.path)  # an open connection keeps records.db-wal and -shm in place
    try:
        store.db.query("SELECT count(*) AS n FROM store_files")
        names = {p.name for p in kit.path.iterdir()}
        assert {"records.db", "records.db-wal", "records.db-shm", "store.toml", "reads", "index",
                "images"} <= names, names
        assert any((kit.path / "images").rglob("*.png")) and any((kit.path / "index").rglob("*.parquet"))
        bad = offenders(kit.path)
        assert not bad, "not private:\n" + "\n".join(bad)
        key = store.audit_key.path
        assert mode(key) & 0o077 == 0, f"audit key {key} is {oct(mode(key))}"
    finally:
        store.close()


def test_records_database_is_tightened_on_open(kit: StoreKit) -> None:
    db = kit.path / "records.db"
    db.chmod(0o644)
    kit.login("analyst").search_plates("7ABK123", purpose="stolen plates")
    assert mode(db) == 0o600
    for suffix in ("-wal", "-shm"):
        side = kit.path / f"records.db{suffix}"
        if side.exists():
            assert mode(side) == 0o600, side


def test_cli_output_files_are_private_and_replace_wider_files(kit: StoreKit, tmp_path: Path, run) -> None:
    outputs = {
        "search": stale(tmp_path / "hits.csv"),
        "history": stale(tmp_path / "history.parquet"),
        "show": stale(tmp_path / "audit.json"),
        "export": stale(tmp_path / "audit.jsonl"),
        "new": tmp_path / "new.csv",
    }
    found = run("analyst", "search", "*ABK*", *CASE, "-o", str(outputs["search"]))
    assert found.exit_code == 0, found.output
    assert "7ABK123" in outputs["search"].read_text()
    history = run("analyst", "history", "7ABK123", *CASE, "-o", str(outputs["history"]))
    assert history.exit_code == 0, history.output
    assert pl.read_parquet(outputs["history"]).height > 0
    shown = run("auditor", "audit show", "-o", str(outputs["show"]))
    assert shown.exit_code == 0, shown.output
    exported = run("auditor", "audit export", "-o", str(outputs["export"]))
    assert exported.exit_code == 0, exported.output
    assert any(json.loads(line)["action"] == "reads.search" for line in outputs["export"].read_text().splitlines())
    fresh = run("analyst", "search", "7ABK123", *CASE, "-o", str(outputs["new"]))
    assert fresh.exit_code == 0, fresh.output
    bad = [f"{name}: {path} is {oct(mode(path))}" for name, path in outputs.items() if mode(path) != 0o600]
    assert not bad, bad
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_ingest_rejects_report_is_private(kit: StoreKit, tmp_path: Path, run) -> None:
    source = tmp_path / "batch.csv"
    source.write_text("read_id,plate,plate_confidence,region,captured_at,camera_id,lat,lon\n"
                      "X1,7ABC123,91.5,CA,2026-06-01T10:00:00Z,CAM1,37.43,-121.90\n"
                      "X2,7AB$123,91.5,CA,2026-06-01T10:00:00Z,CAM1,37.43,-121.90\n")
    rejects = stale(tmp_path / "rejects.csv")
    result = run("ingest", "ingest", str(source), "--rejects", str(rejects))
    assert result.exit_code == 3, result.output
    assert "7AB$123" in rejects.read_text() and mode(rejects) == 0o600


def test_library_audit_export_is_private(kit: StoreKit, tmp_path: Path) -> None:
    auditor = kit.login("auditor")
    target = stale(tmp_path / "log.jsonl")
    assert auditor.export_audit(target) > 0
    assert mode(target) == 0o600 and target.read_text().startswith("{")
    fresh = tmp_path / "fresh.jsonl"
    auditor.export_audit(fresh)
    assert mode(fresh) == 0o600


def test_outputs_never_go_through_a_symlink_or_into_a_fifo(kit: StoreKit, tmp_path: Path, run) -> None:
    victim = stale(tmp_path / "elsewhere.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    refused = run("analyst", "search", "7ABK123", *CASE, "-o", str(link))
    assert refused.exit_code == 1 and "symbolic link" in refused.output, refused.output
    assert victim.read_text() == "stale\n" and link.is_symlink()
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        kit.login("auditor").export_audit(link)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused = run("analyst", "search", "7ABK123", *CASE, "-o", str(fifo))
    assert refused.exit_code == 1 and "not a regular file" in refused.output, refused.output


def test_private_files_helpers(umask: int, tmp_path: Path) -> None:
    deep = private_dir(tmp_path / "a" / "b" / "c")
    assert [oct(mode(p)) for p in (tmp_path / "a", tmp_path / "a" / "b", deep)] == ["0o700"] * 3
    existing = tmp_path / "open"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    private_dir(existing)
    assert mode(existing) == 0o755  # left alone unless asked
    private_dir(existing, tighten_existing=True)
    assert mode(existing) == 0o700
    wide = stale(tmp_path / "wide.txt")
    write_private_text(wide, "new")
    assert mode(wide) == 0o600 and wide.read_text() == "new"
    appended = stale(tmp_path / "append.txt")
    with open_private(appended, "a") as handle:
        handle.write("more\n")
    assert mode(appended) == 0o600 and appended.read_text() == "stale\nmore\n"
    atomic = stale(tmp_path / "atomic.bin")
    write_private_atomic(atomic, b"bytes")
    assert mode(atomic) == 0o600 and atomic.read_bytes() == b"bytes"
    with atomic_private_path(tmp_path / "rewritten.parquet") as tmp:
        tmp.unlink()  # a writer that re-creates its file takes the umask: it is tightened before the rename
        pl.DataFrame({"plate": ["7ABK123"]}).write_parquet(tmp)
    assert mode(tmp_path / "rewritten.parquet") == 0o600
    with pytest.raises(RuntimeError), atomic_private_path(tmp_path / "failed.csv") as tmp:
        raise RuntimeError
    assert not (tmp_path / "failed.csv").exists() and not tmp.exists()
    link = tmp_path / "link"
    link.symlink_to(wide)
    with pytest.raises(UnsafeFileError):
        write_private_text(link, "x")
    with pytest.raises(UnsafeFileError):
        write_private_atomic(link, "x")
    assert wide.read_text() == "new"
