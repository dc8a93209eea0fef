"""``alpr training``: the training sandbox, progress and certificate state, the roster, sign-off, certificates."""

from __future__ import annotations

import click

from alpr_lib.cli._common import TableView, print_frame, session_from, store_option, user_option

_ROSTER = TableView(empty="no members", noun=("member", "members"),
                    columns=("username", "full_name", "progress", "score", "certificate_status", "expires_at",
                             "refresher_due", "ready_for_sign_off", "suspended"),
                    headers={"certificate_status": "certificate", "ready_for_sign_off": "ready"})


@click.group()
def training() -> None:
    """Department ALPR training (policy 462.8): sandbox, progress, sign-off, certificates."""


@training.command("sandbox")
@store_option
@user_option
@click.option("--replace", is_flag=True, help="Rebuild an existing sandbox (attempts and certificates are kept).")
@click.option("--reads", "n_reads", type=int, default=20_000, show_default=True,
              help="Synthetic reads besides the planted scenarios.")
def sandbox(store: str, username: str, replace: bool, n_reads: int) -> None:
    """Build the training sandbox of the operational store (STORE/training): synthetic reads with the planted
    scenarios the exercises are graded against (trainers, administrators)."""
    summary = session_from(store, username).training.build_sandbox(replace=replace, n_reads=n_reads, progress=True)
    click.echo(f"training sandbox at {summary['sandbox']}: {summary['reads']:,} reads, {summary['cameras']} cameras, "
               f"{summary['incidents']} incidents")
    click.echo(summary["banner"])


@training.command("status")
@store_option
@user_option
@click.option("--for", "target", default=None, help="Another member (trainers, administrators, auditors).")
def status(store: str, username: str, target: str | None) -> None:
    """Progress on the course, module by module, and the certificate's state."""
    progress = session_from(store, username).training.status(target)
    click.echo(progress.summary())
    print_frame(progress.frame(), view=TableView(noun=("module", "modules"), title=f"course {progress.course_version}"))


@training.command("roster")
@store_option
@user_option
def roster(store: str, username: str) -> None:
    """Every member's progress, score, certificate status and expiry; who is due for refresher training."""
    print_frame(session_from(store, username).training.roster(), view=_ROSTER)


@training.command("sign-off")
@store_option
@user_option
@click.argument("trainee")
def sign_off(store: str, username: str, trainee: str) -> None:
    """Sign off TRAINEE, who passed every module: issues the certificate (the trainer role only)."""
    cert = session_from(store, username).training.sign_off(trainee)
    click.echo(f"certificate {cert} issued to {trainee}")


@training.command("revoke")
@store_option
@user_option
@click.argument("target")
@click.option("--reason", required=True, help="Why (the member is told).")
def revoke(store: str, username: str, target: str, reason: str) -> None:
    """Revoke TARGET's current certificates: data access closes at once."""
    ids = session_from(store, username).training.revoke(target, reason=reason)
    click.echo(f"revoked certificate(s) {', '.join(map(str, ids))} of {target}")


@training.command("certificate")
@store_option
@user_option
@click.option("--for", "target", default=None, help="Another member (trainers, administrators, auditors).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
def certificate(store: str, username: str, target: str | None, output: str) -> None:
    """Write the printable certificate (HTML, print-ready) to a file."""
    session_from(store, username).training.certificate(target, path=output)
    click.echo(f"wrote the certificate to {output}")
