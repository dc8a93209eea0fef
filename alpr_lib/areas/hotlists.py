"""Hotlists (policy 462.2, 462.3(c), 462.3(e)): source grants, import and refresh, listing, re-running an entry
over past reads. Matching at ingest is in ``areas/reads.py``'s ingest; alerts are in ``areas/alerts.py``.

A user sees lists, entries and alerts only from the sources (department, state, federal) granted to them;
any other attempt is refused by the door, which audits the refusal."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.auth.users import get_user
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.hotlists import SOURCES, is_stale
from alpr_lib.hotlists.layouts import REPORT_COLUMNS, parse_list
from alpr_lib.hotlists.matcher import Matcher
from alpr_lib.normalise import PLATE_SEPARATORS
from alpr_lib.records import hotlists as hotlist_rows
from alpr_lib.search import plates as plate_search
from alpr_lib.search.patterns import PlatePattern, parse_pattern
from alpr_lib.timeutil import TimeLike, iso, requested_window, time_window

__all__ = ["ImportReport", "granted_sources", "require_source"]

Source = Literal["department", "state", "federal"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def granted_sources(ctx: Context) -> frozenset[str]:
    """The sources this user may see (policy 462.3(e))."""
    return hotlist_rows.grants_of(ctx.db, ctx.user.username)


def require_source(ctx: Context, source: str, what: str) -> None:
    """Refuse (AccessDenied, audited by the door) unless the user holds ``source``."""
    if source not in granted_sources(ctx):
        raise AccessDenied(f"you are not authorised for {source} hotlist data, so you may not {what} (policy "
                           "462.3(e)); ask the ALPR administrator or a supervisor to grant you that source",
                           audit_elements={"source_refused": source})


def _list_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise ValidationError(f"a hotlist name is 1-64 letters, digits, spaces, '_', '.' or '-', not {name!r:.60}")
    return name.strip()


def _require_list(ctx: Context, name: str, what: str) -> dict[str, Any]:
    row = hotlist_rows.get_list(ctx.db, _list_name(name))
    if row is None:
        raise NotFound(f"no hotlist named {name!r}; `alpr hotlist list` shows the lists you may see")
    require_source(ctx, row["source"], what)
    return row


def _check_sources(sources: tuple[str, ...]) -> None:
    """A grant or revocation names one or more of the known sources."""
    if not sources or any(s not in SOURCES for s in sources):
        raise ValidationError(f"sources must be some of {list(SOURCES)}, not {list(sources)[:5]!r:.80}")


# ---------------------------------------------------------------------------------------------- grants
@action("hotlists.grant", permission="hotlists.grant", namespace="hotlists", method="grant", needs_training=False,
        result="list")
class GrantSources(Request):
    """Grant a user hotlist sources (department, state, federal) they may see (policy 462.3(e))."""

    username: str
    sources: tuple[str, ...]

    def plan(self, ctx: Context) -> Plan:
        _check_sources(self.sources)
        if get_user(ctx.db, self.username) is None:
            raise NotFound(f"no user named {self.username!r:.60}")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            added = [s for s in dict.fromkeys(self.sources)
                     if hotlist_rows.grant(tx, self.username, s, ctx.user.username, iso(ctx.now))]
            held = sorted(hotlist_rows.grants_of(tx, self.username))
            result = Result(held, len(added), {"granted": added, "holds": held})
            ctx.audit_in(tx, result)
        return result


@action("hotlists.revoke", permission="hotlists.grant", namespace="hotlists", method="revoke", needs_training=False,
        result="list")
class RevokeSources(Request):
    """Take hotlist sources away from a user."""

    username: str
    sources: tuple[str, ...]

    def plan(self, ctx: Context) -> Plan:
        _check_sources(self.sources)
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            removed = [s for s in dict.fromkeys(self.sources) if hotlist_rows.revoke(tx, self.username, s)]
            held = sorted(hotlist_rows.grants_of(tx, self.username))
            result = Result(held, len(removed), {"revoked": removed, "holds": held})
            ctx.audit_in(tx, result)
        return result


@action("hotlists.grants", permission="hotlists.grant", namespace="hotlists", method="grants", needs_training=False,
        result="polars.DataFrame")
class ListGrants(Request):
    """Who holds which hotlist source."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = hotlist_rows.all_grants(ctx.db)
        frame = pl.DataFrame(rows, schema={"username": pl.String, "source": pl.String, "granted_by": pl.String,
                                           "granted_at": pl.String}, orient="row")
        return Result(frame, frame.height)


# ---------------------------------------------------------------------------------------------- import
@dataclass(frozen=True)
class ImportReport:
    """What one import did; ``report`` lists every refused row (row 1 is the first row under the header)."""

    name: str
    source: str
    layout: str
    rows_in: int
    imported: int
    rejected: int
    duplicates: int
    lookalikes: int
    unchanged: bool
    refreshed_at: str
    report: pl.DataFrame

    def summary(self) -> str:
        state = "unchanged (same entries as before); refresh date moved" if self.unchanged else "entries replaced"
        return (f"{self.name} ({self.source}, {self.layout} layout): {self.rows_in} rows, {self.imported} entries, "
                f"{self.rejected} rows refused ({self.duplicates} duplicates, {self.lookalikes} look-alike "
                f"duplicates); {state}")


def _entry_id(list_id: str, row: dict[str, Any]) -> str:
    key = "|".join(str(row[c]) for c in ("plate", "state", "category", "entered_at"))
    return "HE-" + hashlib.sha1(f"{list_id}|{key}".encode()).hexdigest()[:16]


@action("hotlists.import", permission="hotlists.manage", namespace="hotlists", method="import_list",
        aliases=("import_hotlist",), result="ImportReport")
class ImportList(Request):
    """Import (or refresh) a hotlist from a CSV file or a DataFrame: every row checked, a row-numbered report of
    refused rows, duplicates and look-alike duplicates (O/0) refused. The list is a snapshot: importing it
    again replaces its entries and moves its refresh date (the same file again changes no entry). ``owner``
    (default: you) answers for the list; ``refresh_days`` (default: the department's ``hotlist_refresh_days``)
    is how long it stays current before its hits are marked stale."""

    file: str | os.PathLike | pl.DataFrame
    name: str
    source: Source
    _: KW_ONLY
    owner: str | None = None
    refresh_days: int | None = None

    def describe(self) -> dict[str, Any]:
        given = "dataframe" if isinstance(self.file, pl.DataFrame) else str(self.file)[:300]
        return {"file": given, "name": self.name, "source": self.source, "owner": self.owner,
                "refresh_days": self.refresh_days}

    def plan(self, ctx: Context) -> Plan:
        _list_name(self.name)
        require_source(ctx, self.source, f"import a {self.source} list")
        if self.owner is not None and get_user(ctx.db, self.owner) is None:
            raise NotFound(f"no user named {self.owner!r:.60} to own the list")
        if self.refresh_days is not None and not 1 <= self.refresh_days <= 3650:
            raise ValidationError(f"refresh_days must be 1 to 3650, not {self.refresh_days}")
        existing = hotlist_rows.get_list(ctx.db, self.name.strip())
        if existing is not None and existing["source"] != self.source:
            raise ValidationError(f"hotlist {self.name!r} holds {existing['source']} data; import it with source="
                                  f"{existing['source']!r}, or give this {self.source} list another name")
        if not isinstance(self.file, pl.DataFrame) and not os.fspath(self.file).strip():
            raise ValidationError("file must name the hotlist's CSV file")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        name = self.name.strip()
        parsed = parse_list(self.file, zone=ctx.config.zone, now=ctx.now)
        existing = hotlist_rows.get_list(ctx.db, name)
        list_id = existing["list_id"] if existing else "HL-" + hashlib.sha1(name.encode()).hexdigest()[:12]
        digest = parsed.content_sha256
        unchanged = existing is not None and existing["content_sha256"] == digest
        stamp = iso(ctx.now)
        row = {"list_id": list_id, "name": name, "source": self.source,
               "owner": self.owner or (existing["owner"] if existing else ctx.user.username),
               "refresh_days": self.refresh_days or (existing["refresh_days"] if existing
                                                     else ctx.config.hotlist_refresh_days),
               "entries": parsed.entries.height, "content_sha256": digest, "layout": parsed.layout,
               "created_at": existing["created_at"] if existing else stamp,
               "created_by": existing["created_by"] if existing else ctx.user.username,
               "refreshed_at": stamp, "refreshed_by": ctx.user.username}
        rejected = parsed.report.get_column("row").n_unique() if parsed.report.height else 0
        report = ImportReport(name, self.source, parsed.layout, parsed.rows_in, parsed.entries.height, rejected,
                              parsed.duplicates, parsed.lookalikes, unchanged, stamp, parsed.report)
        elements = {"list": name, "list_id": list_id, "source": self.source, "layout": parsed.layout,
                    "rows_in": parsed.rows_in, "entries": parsed.entries.height, "rows_refused": rejected,
                    "unchanged": unchanged}
        with ctx.db.transaction() as tx:
            hotlist_rows.put_list(tx, row)
            if not unchanged:
                entries = [(_entry_id(list_id, e), list_id, e["plate"], int(e["is_pattern"]), e["state"],
                            e["category"], e["entered_at"], e["expires_at"], e["notes"], e["row_number"])
                           for e in parsed.entries.iter_rows(named=True)]
                hotlist_rows.replace_entries(tx, list_id, entries)
            result = Result(report, parsed.entries.height, elements)
            ctx.audit_in(tx, result)
        return result


# ---------------------------------------------------------------------------------------------- reading
_LIST_SCHEMA = {"name": pl.String, "source": pl.String, "owner": pl.String, "entries": pl.Int64,
                "refreshed_at": pl.String, "refresh_days": pl.Int64, "stale": pl.Boolean, "layout": pl.String,
                "created_at": pl.String, "created_by": pl.String}


@action("hotlists.list", permission="hotlists.view", namespace="hotlists", method="lists", aliases=("list_hotlists",),
        result="polars.DataFrame")
class ListLists(Request):
    """The hotlists of the sources granted to you, with their owner, refresh date and whether they are stale."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        granted = granted_sources(ctx)
        rows = [{**{k: r[k] for k in _LIST_SCHEMA if k != "stale"}, "stale": is_stale(r, ctx.now)}
                for r in hotlist_rows.all_lists(ctx.db) if r["source"] in granted]
        frame = pl.DataFrame(rows, schema=_LIST_SCHEMA, orient="row")
        return Result(frame, frame.height, {"sources_granted": sorted(granted),
                                            "lists_returned": frame["name"].to_list()})


_ENTRY_SCHEMA = {"entry_id": pl.String, "plate": pl.String, "is_pattern": pl.Boolean, "state": pl.String,
                 "category": pl.String, "entered_at": pl.String, "expires_at": pl.String, "active": pl.Boolean,
                 "notes": pl.String, "row_number": pl.Int64}


@action("hotlists.show", permission="hotlists.view", namespace="hotlists", method="show", result="dict")
class ShowList(Request):
    """One hotlist: its details (``list``) and its entries (``entries``; ``active`` is False once expired)."""

    name: str
    _: KW_ONLY
    limit: int | None = None

    def plan(self, ctx: Context) -> Plan:
        if self.limit is not None and self.limit < 0:
            raise ValidationError(f"limit must be 0 or more, not {self.limit}")
        _require_list(ctx, self.name, "see this list")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = _require_list(ctx, self.name, "see this list")
        stamp = iso(ctx.now)
        entries = [{**{k: e[k] for k in _ENTRY_SCHEMA if k not in ("active", "is_pattern")},
                    "is_pattern": bool(e["is_pattern"]),
                    "active": e["expires_at"] is None or e["expires_at"] > stamp}
                   for e in hotlist_rows.entries_of(ctx.db, row["list_id"], limit=self.limit or None)]
        info = {k: row[k] for k in _LIST_SCHEMA if k != "stale"} | {"stale": is_stale(row, ctx.now)}
        frame = pl.DataFrame(entries, schema=_ENTRY_SCHEMA, orient="row")
        return Result({"list": info, "entries": frame}, frame.height, {"list": row["name"], "source": row["source"]})


# ---------------------------------------------------------------------------------------------- re-run
@dataclass(frozen=True)
class _Rerun(Plan):
    list_row: Any = None
    entry: Any = None
    start: Any = None
    end: Any = None

    def audit_elements(self) -> dict[str, Any]:
        return {"list": self.list_row["name"], "entry_id": self.entry["entry_id"],
                "plate_pattern": self.entry["plate"], "start": iso(self.start) if self.start else None,
                "end": iso(self.end) if self.end else None}


@action("hotlists.rerun", permission="hotlists.manage", namespace="hotlists", method="rerun", needs_purpose=True,
        result="polars.DataFrame", rerun_if_files_move=True)
class RerunEntry(Request):
    """Match one entry of a list against past reads (e.g. a plate just entered): audited as a search, with a
    purpose and case. ``plate`` is the entry's plate or partial plate as listed. Returns the hits: each read
    with its match kind (exact, approximate naming the look-alike characters, wildcard) and state flag."""

    name: str
    plate: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return {"list": self.name, "plate": self.plate, **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> _Rerun:
        row = _require_list(ctx, self.name, "search with its entries")
        wanted = re.sub(PLATE_SEPARATORS, "", self.plate).upper()
        entry = next((e for e in hotlist_rows.entries_of(ctx.db, row["list_id"]) if e["plate"] == wanted), None)
        if entry is None:
            raise NotFound(f"hotlist {row['name']!r} has no entry {self.plate!r:.40}; `alpr hotlist show "
                           f"{row['name']}` lists its entries")
        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        return _Rerun(row, entry, lo, hi)

    def work(self, ctx: Context, plan: _Rerun) -> Result:
        entry = {**plan.entry, "list_name": plan.list_row["name"], "source": plan.list_row["source"],
                 "refreshed_at": plan.list_row["refreshed_at"], "refresh_days": plan.list_row["refresh_days"]}
        pattern = parse_pattern(entry["plate"]) if entry["is_pattern"] else PlatePattern.exact(entry["plate"])
        matched = plate_search.match_plates(ctx.store, pattern, exact=False, start=plan.start, end=plan.end)
        reads = plate_search.reads_of_plates(ctx.store, matched, start=plan.start, end=plan.end)
        hits = Matcher([entry]).match(reads, ctx.now, live=False)
        hits = hits.sort("captured_at", descending=True)
        return Result(hits, hits.height, {"plates_returned": sorted(set(hits["plate"].to_list()))[:200]})


__all__ += ["REPORT_COLUMNS", "GrantSources", "ImportList", "ListGrants", "ListLists", "RerunEntry", "RevokeSources",
            "ShowList"]
