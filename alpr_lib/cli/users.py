"""``alpr users``: accounts, passwords and training certifications."""

from __future__ import annotations

import click

from alpr_lib.auth.certifications import DEFAULT_COURSE
from alpr_lib.cli._common import print_frame, session_from, store_option, user_option
from alpr_lib.login import login


@click.group()
def users() -> None:
    """Manage user accounts (administrators) and certifications (trainers)."""


@users.command("add")
@store_option
@user_option
@click.argument("new_username")
@click.option("--full-name", required=True)
@click.option("--title", required=True, help="Job title or designation (policy 462.2.1(a)).")
@click.option("--organisation", default="Milpitas Police Department", show_default=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="Role (repeatable): analyst, operator, supervisor, command_staff, auditor, trainer, "
                   "administrator; service for --service accounts.")
@click.option("--contractor", is_flag=True, help="An independent contractor rather than a member.")
@click.option("--service", is_flag=True, help="A service account for ingest: writes reads, never searches.")
def add(store: str, username: str, new_username: str, full_name: str, title: str, organisation: str,
        roles: tuple[str, ...], contractor: bool, service: bool) -> None:
    """Create an account; its initial password (prompted) must be changed at first login."""
    session = session_from(store, username)
    password = click.prompt(f"Initial password for {new_username}", hide_input=True, confirmation_prompt=True)
    member_type = "service" if service else ("contractor" if contractor else "member")
    user = session.add_user(new_username, full_name=full_name, title=title, organisation=organisation,
                            roles=list(roles) or (["service"] if service else []), password=password,
                            member_type=member_type)
    click.echo(f"created {user.username} ({', '.join(user.roles)})")


@users.command("list")
@store_option
@user_option
def list_(store: str, username: str) -> None:
    """List accounts."""
    print_frame(session_from(store, username).users())


@users.command("disable")
@store_option
@user_option
@click.argument("target")
@click.option("--enable", is_flag=True, help="Re-enable instead.")
def disable(store: str, username: str, target: str, enable: bool) -> None:
    """Disable (or re-enable) an account."""
    admin = session_from(store, username).admin
    (admin.enable_user if enable else admin.disable_user)(target)
    click.echo(f"{target} {'enabled' if enable else 'disabled'}")


@users.command("reinstate")
@store_option
@user_option
@click.argument("target")
def reinstate(store: str, username: str, target: str) -> None:
    """Reinstate an account suspended after inactivity (supervisors, administrators)."""
    session_from(store, username).admin.reinstate_user(target)
    click.echo(f"{target} reinstated")


@users.command("reset-password")
@store_option
@user_option
@click.argument("target")
def reset_password(store: str, username: str, target: str) -> None:
    """Set a temporary password that the user must change at next login."""
    session = session_from(store, username)
    password = click.prompt(f"Temporary password for {target}", hide_input=True, confirmation_prompt=True)
    session.reset_password(target, password)
    click.echo(f"{target} must change this password at next login")


@users.command("passwd")
@store_option
@user_option
def passwd(store: str, username: str) -> None:
    """Change your own password (also completes a forced change after a reset)."""
    current = click.prompt("Current password", hide_input=True)
    new = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    session = login(username=username, password=current, store=store, client="cli", new_password=new)
    if not session.password_changed_at_login:
        session.change_password(current, new)
    click.echo("password changed")


@users.command("certify")
@store_option
@user_option
@click.argument("target")
@click.option("--course", default=DEFAULT_COURSE, show_default=True)
@click.option("--completed", help="Completion date (default: now), e.g. 2026-11-02.")
@click.option("--valid-days", type=int, help="Validity in days (default: the department setting, 365).")
def certify(store: str, username: str, target: str, course: str, completed: str | None,
            valid_days: int | None) -> None:
    """Record that TARGET completed department-approved ALPR training (trainers, administrators)."""
    cert_id = session_from(store, username).certify(target, course=course, completed_at=completed,
                                                     valid_days=valid_days)
    click.echo(f"certification {cert_id} recorded for {target}")
