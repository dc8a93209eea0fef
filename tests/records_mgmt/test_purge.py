"""The purge (issue 13, part 1): every read past retention and under no hold leaves every copy of the read
data (checked by reading the store's Parquet and image files directly), held and young reads stay, the plate
dictionary is recomputed, a certificate and an audit record are written, and a second purge changes nothing.
Retention under 365 days is refused; a backfill of old reads is accepted, counted and purged next time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow.parquet as pq
import pytest

import alpr_lib as alpr
from alpr_lib.bootstrap import init_store
from alpr_lib.errors import ConfigError
from alpr_lib.records import manifest
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store
from alpr_lib.timeutil import utc_now
from tests.conftest import TEST_SETTINGS, random_reads
from tests.records_mgmt.helpers import (
    HELD_PLATE,
    INVESTIGATION,
    OLD_PLATE,
    PNG,
    cutoff,
    dictionary_plates,
    dictionary_sightings,
    image_names,
    old,
    parquet_read_ids,
    straddling_reads,
    young,
)


def _load(kit) -> pl.DataFrame:
    reads = straddling_reads()
    images = {rid: PNG for rid in reads.get_column("read_id").to_list()[::3]}
    images["SOLD0"] = PNG
    report = kit.login("ingest").ingest_reads(reads, images=images, progress=False)
    assert report.ingested == reads.height
    # recent reads of some of the same plates, months after the cutoff: the dictionary's first sighting of
    # a plate whose old reads are purged comes from these
    recent = random_reads(200, seed=14, start=utc_now() - timedelta(days=100), days=90, prefix="Y",
                          plates=[p for p in reads.get_column("plate").unique().sort().to_list()
                                  if p not in (OLD_PLATE, HELD_PLATE)][:40])
    assert kit.login("ingest").ingest_reads(recent, progress=False).ingested == recent.height
    return pl.concat([reads, recent])


def _everything(kit) -> pl.DataFrame:
    """Every live read, read from the day files the manifest lists (the store's primary copy)."""
    store = Store.open(kit.path)
    try:
        paths = [store.path / p for p in manifest.live_paths(store.db, "reads")]
        return pl.read_parquet(paths).sort("read_id").select(list(READ_SCHEMA))
    finally:
        store.close()


@pytest.fixture
def loaded(any_kit):
    kit = any_kit
    reads = _load(kit)
    analyst = kit.login("analyst")
    held_by_id = old(reads).filter(~pl.col("plate").is_in([OLD_PLATE, HELD_PLATE])).get_column("read_id")[:3]
    hold_ids = analyst.holds.add("suspect vehicle in the burglary", read_ids=held_by_id.to_list(), **INVESTIGATION)
    hold_plate = analyst.holds.add("plate of interest", plate=HELD_PLATE, **INVESTIGATION)
    victim = old(reads).filter(pl.col("plate") == OLD_PLATE).get_column("read_id")[0]
    analyst.correct_read(victim, "6OLD128", purpose="stolen plates", note="misread")
    return kit, reads, set(held_by_id.to_list()), hold_ids, hold_plate


def test_a_purge_removes_old_unheld_reads_from_every_copy(loaded):
    kit, reads, held_ids, hold_ids, hold_plate = loaded
    held = set(held_ids) | set(reads.filter(pl.col("plate") == HELD_PLATE).get_column("read_id").to_list())
    gone = set(old(reads).get_column("read_id").to_list()) - held
    kept = set(young(reads).get_column("read_id").to_list()) | held
    before = _everything(kit)
    assert set(before.get_column("read_id").to_list()) == set(reads.get_column("read_id").to_list())
    analyst = kit.login("analyst")
    for read_id in held_ids:  # holds are shown wherever a read is shown
        plate = reads.filter(pl.col("read_id") == read_id)["plate"][0]
        shown = analyst.search_plates(plate, purpose="stolen plates", exact=True)
        assert shown.filter(pl.col("read_id") == read_id)["hold"].to_list() == [hold_ids["hold_id"]]
        assert analyst.read_details(read_id, purpose="stolen plates")["hold"] == hold_ids["hold_id"]

    admin = kit.login("admin")
    dry = admin.retention.purge(dry_run=True)
    report = admin.retention.purge(progress=False)
    assert dry.reads_deleted == report.reads_deleted >= len(gone)
    assert report.reads_held == len(held)
    assert report.audit_seq and report.audit_hash and report.audit_anchor["hash"] == report.audit_hash

    after = _everything(kit)
    ids = set(after.get_column("read_id").to_list())
    assert ids.isdisjoint(gone) and kept <= ids
    store_path = kit.path
    on_disk = parquet_read_ids(store_path)  # every Parquet file, read around the library
    assert on_disk.isdisjoint(gone), "a purged read remains in a Parquet file"
    assert kept <= on_disk
    plates = dictionary_plates(store_path)
    assert OLD_PLATE not in plates and plates[HELD_PLATE] == 2
    expected = after.group_by("plate").len()
    assert {r["plate"]: r["len"] for r in expected.iter_rows(named=True)} == plates  # counts recomputed
    truth = after.group_by("plate").agg(pl.len(), pl.col("captured_at").min().alias("first"),
                                        pl.col("captured_at").max().alias("last"))
    assert dictionary_sightings(store_path) == {  # first and last sightings too (some only in later months)
        r["plate"]: (r["len"], r["first"], r["last"]) for r in truth.iter_rows(named=True)}
    history = kit.login("analyst").plate_history(HELD_PLATE, purpose="stolen plates")
    assert history.height == 2 and history.get_column("hold").to_list() == [hold_plate["hold_id"]] * 2
    assert kit.login("analyst").plate_history(OLD_PLATE, purpose="stolen plates").height == 0
    assert kit.login("analyst").search_plates("6OLD128", purpose="stolen plates").height == 0  # correction gone
    assert image_names(store_path).isdisjoint(gone) and "SOLD0" not in image_names(store_path)
    assert image_names(store_path) & kept  # young images stay

    store = Store.open(store_path)
    try:
        assert store.audit.verify().ok
        records = store.audit.rows(AuditFilter(action="retention.purge", outcome="allowed"))
        assert [(json.loads(r["query"])["dry_run"], r["result_count"]) for r in records] \
            == [(True, report.reads_deleted), (False, report.reads_deleted)]
        certificate = kit.login("admin").retention.certificates()
        assert certificate.get_column("reads_deleted").sum() == report.reads_deleted
        assert certificate.get_column("reads_held").sum() == len(held)
        assert set(certificate.get_column("audit_hash").to_list()) == {report.audit_hash}
        assert records[-1]["hash"] == report.audit_hash  # the certificate names the purge's own record
    finally:
        store.close()

    again = kit.login("admin").retention.purge(progress=False)  # idempotent
    assert again.reads_deleted == 0
    assert _everything(kit).equals(after)
    status = kit.login("auditor").retention.status()
    assert status["retention_days"] == 365 and status["reads_due_for_purge"] == 0
    assert status["reads_held_past_retention"] == len(held) and status["last_purge"]["purge_id"] == again.purge_id


def test_released_holds_let_their_reads_go(kit):
    reads = _load(kit)
    hold = kit.login("analyst").holds.add("plate of interest", plate=HELD_PLATE, **INVESTIGATION)
    kit.login("admin").retention.purge(progress=False)
    assert kit.login("analyst").plate_history(HELD_PLATE, purpose="stolen plates").height == 2
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").holds.release(hold["hold_id"], "case closed")  # only a supervisor or custodian
    kit.login("supervisor").holds.release(hold["hold_id"], "case closed, no prosecution")
    kit.login("admin").retention.purge(progress=False)
    assert kit.login("analyst").plate_history(HELD_PLATE, purpose="stolen plates").height == 0
    assert not set(reads.filter(pl.col("plate") == HELD_PLATE)["read_id"]) & parquet_read_ids(kit.path)


def test_retention_under_a_year_is_refused(kit, tmp_path):
    admin = kit.login("admin")
    with pytest.raises(alpr.ValidationError, match=r"34090\.6"):
        admin.admin.set_setting("retention_days", 364)
    admin.admin.set_setting("retention_days", 400)  # longer is the department's choice, audited with the old value
    store = Store.open(kit.path)
    try:
        record = store.audit.rows(AuditFilter(action="settings.set", outcome="allowed"))[-1]
        assert '"old_value": 365' in record["query"] and '"new_value": 400' in record["query"]
    finally:
        store.close()
    with pytest.raises(ConfigError, match=r"34090\.6"):
        init_store(tmp_path / "short", admin_username="admin",
                   admin_password="Chief-pass-0001", full_name="A B", title="Admin", organisation="MPD",
                   settings={**TEST_SETTINGS, "retention_days": 90})


def test_a_backfill_of_old_reads_is_accepted_counted_and_purged_next(kit):
    reads = straddling_reads(prefix="B")
    report = kit.login("ingest").ingest_reads(reads, progress=False)
    past = old(reads).height
    assert report.ingested == reads.height and report.past_retention >= past
    assert "past the retention period" in report.summary()
    purged = kit.login("admin").retention.purge(progress=False)
    assert purged.reads_deleted == report.past_retention
    assert parquet_read_ids(kit.path).isdisjoint(set(old(reads)["read_id"]))


def test_only_the_administrator_or_custodian_purges(kit):
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").retention.purge(progress=False)
    admin = kit.login("admin")
    admin.add_user("custodian", full_name="Pat Kim", title="Custodian of Records", organisation="MPD",
                   roles=["custodian_of_records"], password="Records-pass-01", must_change_password=False)
    kit.login("trainer").certify("custodian")
    kit.passwords["custodian"] = "Records-pass-01"
    assert kit.login("custodian").retention.purge(progress=False).reads_deleted == 0


def test_age_statistics_by_purpose(kit):
    _load(kit)
    analyst = kit.login("analyst")
    found = analyst.search_plates("7AB*", purpose="stolen plates")
    analyst.plate_history(HELD_PLATE, purpose="criminal investigation", case_number="24-001234")
    stats = kit.login("auditor").retention.age_statistics()
    rows = {r["purpose"]: r for r in stats.iter_rows(named=True)}
    assert rows["stolen plates"]["reads_returned"] == found.height > 0
    assert rows["criminal investigation"]["reads_returned"] == 2
    assert rows["criminal investigation"]["share_older_than_365_days"] == 1.0


def test_a_purge_rewrites_only_the_purge_tier(loaded):
    """The bucket copy keeps the reads the coming purges reach apart from younger ones: a purge leaves the
    live tier's files as they are (not even opened), and every file says the months it holds."""
    from alpr_lib.retention.purge import cutoff_of
    from alpr_lib.store import plate_index

    kit, *_ = loaded
    store = Store.open(kit.path)
    try:
        limit = f"{cutoff_of(datetime.now(UTC), int(store.config.retention_days)):%Y-%m}"
        before = {e.path for e in manifest.live_with_rows(store.db, "by_plate")}
    finally:
        store.close()
    later = {p for p in before if plate_index.span_of(p)[0] > limit}
    assert later and all(plate_index.span_of(p) for p in before)
    kit.login("admin").retention.purge(progress=False)
    store = Store.open(kit.path)
    try:
        after = {e.path for e in manifest.live_with_rows(store.db, "by_plate")}
    finally:
        store.close()
    assert later <= after  # untouched
    rewritten = after - before
    assert rewritten and all(plate_index.span_of(p)[0] <= limit for p in rewritten)
    for path in after:
        times = pq.read_table(kit.path / path, columns=["captured_at"]).column("captured_at").to_pylist()
        assert (f"{min(times):%Y-%m}", f"{max(times):%Y-%m}") == plate_index.span_of(path), path


def test_a_purge_removes_the_alerts_of_purged_reads(kit, tmp_path):
    """An alert holds copies of its read (plate, place, image reference): it goes with the purged read; the
    alert of a young read stays."""
    from alpr_lib.records import alerts as alert_rows

    kit.login("admin").hotlists.grant("supervisor", ["department"])
    listed = tmp_path / "list.csv"
    listed.write_text("plate,state,category,entered_at,expires_at,notes\n"
                      "7OLDHIT,CA,stolen vehicle,2024-01-01,,\n7NEWHIT,CA,stolen vehicle,2024-01-01,,\n")
    kit.login("supervisor").hotlists.import_list(listed, "purge-list", "department")
    base = random_reads(2, seed=5, prefix="AL")
    frame = base.with_columns(pl.Series("read_id", ["ALOLD", "ALNEW"]), pl.Series("plate", ["7OLDHIT", "7NEWHIT"]),
                              pl.Series("captured_at", [cutoff() - timedelta(days=10), utc_now() - timedelta(days=1)])
                              .cast(base.schema["captured_at"]))
    assert kit.login("ingest").ingest_reads(frame, progress=False).alerts_raised == 2

    def alerts() -> tuple[set[str], set[str]]:
        store = Store.open(kit.path)
        try:
            linked = {r["read_id"] for r in store.db.query("SELECT read_id FROM alert_reads")}
            return {r["plate"] for r in alert_rows.rows(store.db)}, linked
        finally:
            store.close()

    assert alerts() == ({"7OLDHIT", "7NEWHIT"}, {"ALOLD", "ALNEW"})
    report = kit.login("admin").retention.purge(progress=False)
    assert report.alerts_deleted == 1
    assert alerts() == ({"7NEWHIT"}, {"ALNEW"})


def test_a_canvass_shows_the_holds_on_its_reads(loaded):
    """Holds are shown wherever a read is shown: a canvass around a held read says which hold keeps it."""
    kit, reads, held_ids, hold_ids, _ = loaded
    read_id = sorted(held_ids)[0]
    row = reads.filter(pl.col("read_id") == read_id).row(0, named=True)
    hits = kit.login("analyst").canvass((row["lat"], row["lon"]), 50, 5, 5, at=row["captured_at"],
                                        offense_type="homicide", **INVESTIGATION)
    shown = hits[hits["read_id"] == read_id]
    assert list(shown["hold"]) == [hold_ids["hold_id"]]
    others = hits[~hits["read_id"].isin(list(held_ids)) & (hits["plate"] != HELD_PLATE)]
    assert others["hold"].isna().all()
