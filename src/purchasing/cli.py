"""The `purchasing` command: migrate, seed-demo, serve, users."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import NoReturn, TypeVar

import click

from purchasing import db, i18n
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind
from purchasing.i18n import _
from purchasing.live.brokers import Broker, broker_from_url
from purchasing.logs import configure_logging
from purchasing.services import demo, demo_data
from purchasing.services import simulate as simulation
from purchasing.services.changes import Changes
from purchasing.services.errors import NotFound, ValidationFailed
from purchasing.services.users import create_user, set_active, update_user
from purchasing.serving import server
from purchasing.settings import Settings, SettingsError

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Changes], Awaitable[T]], announce: bool = False) -> T:
    """Run `work` on the database, with the changes it makes; with `announce`, each event it
    commits is announced through the broker (BROKER_URL), so running servers read it at once
    instead of on their timer."""

    async def wrapped() -> T:
        engine = db.use_database(settings.database_url)
        await db.start(engine)
        broker = broker_from_url(settings.broker_url, settings.namespace) if announce else Broker()
        await broker.start(lambda _: None)  # this process only tells; it reads nothing
        changes = Changes()
        changes.on_commit(lambda event_id, _: broker.announce(event_id))
        try:
            return await work(changes)
        finally:
            await broker.stop()
            await db.stop(engine)

    return asyncio.run(wrapped())


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Purchasing Live: live purchase tables for a poultry farm."""
    # What the command says is worded in the shell's language (LANG=id_ID.UTF-8: Indonesian);
    # the --help texts stay English (click reads them at import, before any language is known).
    try:
        i18n.activate(i18n.from_environment())
    except i18n.CatalogMissing as missing:  # the command still works, in English
        click.echo(f"{missing} Continuing in English.", err=True)
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(ctx.obj.log_level, ctx.obj.log_format)


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply the database migrations that have not run yet."""
    try:
        _run(settings, lambda _changes: db.migrate())
    except db.MigrationError as error:
        raise click.ClickException(str(error)) from None


@main.command("seed-demo")
@click.option(
    "--if-empty", is_flag=True, help="Only when the database has no users and no purchases."
)
@click.option(
    "--per-kind",
    default=demo_data.MAIN.purchases_per_kind,
    type=click.IntRange(min=8, max=100_000),
    help="Purchases of each kind for the main company.",
)
@click.pass_obj
def seed_demo(settings: Settings, if_empty: bool, per_kind: int) -> None:
    """Load the demo companies, farms, catalog, users and purchases (once)."""
    # The demo's purchases get their history through real status changes: not ones anybody made,
    # so not one log line each.
    logging.getLogger("purchasing.status").setLevel(logging.WARNING)

    async def work() -> str:
        if if_empty and not await demo.database_is_empty():
            return _("The database already has data: demo data not loaded.")
        created = await demo.seed_demo(
            per_kind=per_kind, password_profile=settings.password_profile
        )
        return _("Demo data loaded.") if created else _("Demo data is already present.")

    click.echo(_run(settings, lambda _changes: work()))
    click.echo(_("Demo logins (demo only, never use these passwords elsewhere):"))
    for user in demo_data.USERS:
        if user.farms:
            where = _("farms %(codes)s", codes=", ".join(user.farms))
        else:
            where = user.company or _("all companies")
        click.echo(f"  {user.username:<11} {user.password:<16} {user.role.label:<14} {where}")


@main.command()
@click.option("--host", default=None, help="Defaults to HOST (127.0.0.1).")
@click.option("--port", default=None, type=int, help="Defaults to PORT (8000).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1, max=64),
    help="Worker processes on the one port; defaults to WORKERS (1). More than one needs "
    "BROKER_URL.",
)
@click.pass_obj
def serve(
    settings: Settings, host: str | None, port: int | None, reload: bool, workers: int | None
) -> None:
    """Serve the app with uvicorn; SIGTERM ends open event streams at once."""
    try:
        settings = replace(settings, workers=workers or settings.workers)
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    try:
        i18n.check_catalogs()  # refuse to start rather than fail every page in one language
    except i18n.CatalogMissing as missing:
        raise click.ClickException(str(missing)) from None
    if reload and settings.workers > 1:
        raise click.UsageError(_("--reload runs one process; drop --workers or --reload."))
    server.serve(
        host or settings.host,
        port or settings.port,
        reload,
        settings.trusted_proxies,
        settings.workers,
        settings.var_dir / "metrics",
    )


@main.command()
@click.option("--kind", required=True, type=click.Choice([k.value for k in Kind]))
@click.option("--count", required=True, type=click.IntRange(min=1, max=10_000))
@click.option("--interval-ms", default=0, type=click.IntRange(min=0), help="Pause between changes.")
@click.option("--user", "username", default="supervisor", help="Who makes the changes.")
@click.option(
    "--double-submit", is_flag=True, help="Send every change twice, as a double click would."
)
@click.pass_obj
def simulate(
    settings: Settings, kind: str, count: int, interval_ms: int, username: str, double_submit: bool
) -> None:
    """Make COUNT rapid real status changes on open purchases of KIND."""

    def work(changes: Changes) -> Awaitable[simulation.Simulation]:
        return simulation.simulate(changes, Kind(kind), count, interval_ms, username, double_submit)

    try:
        result = _run(settings, work, announce=True)
    except NotFound as missing:
        raise click.ClickException(str(missing)) from None
    click.echo(
        _(
            "%(kind)s: %(changes)s changes, %(events)s events, "
            "%(suppressed)s suppressed duplicates",
            kind=Kind(kind).noun,
            changes=result.changes,
            events=result.events,
            suppressed=result.suppressed,
        )
    )


@main.group()
def users() -> None:
    """Manage users."""


@users.command("create")
@click.argument("username")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--farm", "farms", multiple=True, help="Farm code an Operator works on (repeatable).")
@click.option("--company", default=None, help="Company name; optional when there is only one.")
@click.option("--full-name", default="", help="Shown in the header and in history.")
@click.pass_obj
def users_create(
    settings: Settings,
    username: str,
    password: str,
    role: str,
    farms: tuple[str, ...],
    company: str | None,
    full_name: str,
) -> None:
    """Create a user who can log in."""
    work = create_user(
        username,
        password,
        Role(role),
        full_name=full_name,
        company_name=company,
        farm_codes=farms,
        password_profile=settings.password_profile,
    )
    try:
        actor = _run(settings, lambda _changes: work)
    except ValidationFailed as failure:
        _refuse(failure)
    click.echo(
        _("Created %(username)s (%(role)s).", username=actor.username, role=actor.role.label)
    )


@users.command("update")
@click.argument("username")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]))
@click.option("--company", default=None, help="Move the user to this company.")
@click.option(
    "--farm", "farms", multiple=True, help="Farm code the Operator works on (repeatable)."
)
@click.option("--no-farms", is_flag=True, help="Take every farm away from the user.")
@click.pass_obj
def users_update(
    settings: Settings,
    username: str,
    role: str | None,
    company: str | None,
    farms: tuple[str, ...],
    no_farms: bool,
) -> None:
    """Change a user's role, company or farms: their open pages follow within seconds."""
    if farms and no_farms:
        raise click.UsageError(_("Give --farm or --no-farms, not both."))
    work = update_user(
        username,
        role=Role(role) if role else None,
        company_name=company,
        farm_codes=() if no_farms else (farms or None),
    )
    try:
        _run(settings, lambda _changes: work)
    except NotFound as missing:
        raise click.ClickException(str(missing)) from None
    except ValidationFailed as failure:
        _refuse(failure)
    click.echo(
        _(
            "%(username)s is updated; their open pages follow within %(seconds)s s.",
            username=username,
            seconds=f"{settings.stream_recheck_s:g}",
        )
    )


@users.command("deactivate")
@click.argument("username")
@click.pass_obj
def users_deactivate(settings: Settings, username: str) -> None:
    """Stop a user: they are logged out everywhere within seconds."""
    _set_active(settings, username, active=False)


@users.command("activate")
@click.argument("username")
@click.pass_obj
def users_activate(settings: Settings, username: str) -> None:
    """Let a deactivated user log in again."""
    _set_active(settings, username, active=True)


def _refuse(failure: ValidationFailed) -> NoReturn:
    for field, message in failure.errors.items():
        click.echo(f"{field}: {message}", err=True)
    raise SystemExit(2) from None


def _set_active(settings: Settings, username: str, active: bool) -> None:
    try:
        _run(settings, lambda _changes: set_active(username, active))
    except NotFound as missing:
        raise click.ClickException(str(missing)) from None
    if active:
        click.echo(_("%(username)s is now active.", username=username))
    else:
        click.echo(_("%(username)s is now deactivated.", username=username))
