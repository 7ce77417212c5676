"""create_app(settings) -> Litestar: the only place that wires things together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Litestar, Request, get
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, State
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from prometheus_client import multiprocess
from redis.asyncio import Redis

from purchasing import db, i18n
from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Forbidden
from purchasing.domain.statuses import Kind
from purchasing.gcpauses import GcPauses, freeze_startup, thaw
from purchasing.live.brokers import broker_from_url
from purchasing.live.hub import Hub
from purchasing.live.stream import DirectWriters
from purchasing.metrics import METRICS_DIR_ENV
from purchasing.periodic import Periodic
from purchasing.presentation import toasts
from purchasing.services.changes import Changes
from purchasing.services.errors import NotFound, ValidationFailed
from purchasing.services.passwords import Passwords
from purchasing.services.users import ActorCache, actor_of_session
from purchasing.settings import Settings
from purchasing.web import dev_reload, errors, sessions, throttle
from purchasing.web.auth import AuthController
from purchasing.web.body_limits import MAX_BODY, MAX_FIELDS, BodyLimits
from purchasing.web.devices import DeviceCookies
from purchasing.web.echo import EchoMarks
from purchasing.web.events import events
from purchasing.web.exports import ExportController, ExportSlots
from purchasing.web.fragments import FragmentCache
from purchasing.web.gallery import GalleryController
from purchasing.web.health import health, ready
from purchasing.web.language import Language, choose_language, worded
from purchasing.web.metrics import HTTP_METRICS, MetricsController
from purchasing.web.monitor import MonitorController
from purchasing.web.purchase_forms import PurchaseFormController
from purchasing.web.purchases import PurchaseController
from purchasing.web.request_id import RequestId
from purchasing.web.security import add_security_headers
from purchasing.web.sessions import sweep_expired
from purchasing.web.stream_guard import StreamGuard
from purchasing.web.templating import jinja_environment

NAMESPACE = "purchasing"  # of the keys in Redis (STORE_URL)


@get("/", name="home")
async def home(request: Request[Any, Any, Any]) -> Redirect:
    return Redirect(request.app.route_reverse("purchase_index", kind=Kind.SUPPLY.value))


async def retrieve_actor(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> Actor | None:
    return await actor_of_session(session, connection.app.state.actors)


@dataclass(frozen=True)
class Shared:
    """Sessions and the counts of failed logins: in Redis when `STORE_URL` names it (needed once
    several machines serve the app); otherwise session files under `var/` (enough for the
    workers of one machine) and counts in each process."""

    sessions: Store
    login_counts: throttle.Counts
    redis: Redis | None = None

    @classmethod
    def of(cls, settings: Settings) -> Shared:
        if not settings.store_url:
            files = FileStore(settings.var_dir / sessions.STORE, create_directories=True)
            return cls(files, throttle.MemoryCounts())
        client = Redis.from_url(settings.store_url)
        # The keys' names are those Litestar's `with_namespace` gives: purchasing_sessions:<id>.
        store = RedisStore(client, namespace=f"{NAMESPACE}_{sessions.STORE}")
        counts = throttle.RedisCounts(client, prefix=f"{NAMESPACE}_{throttle.STORE}:")
        return cls(store, counts, client)

    async def close(self) -> None:
        if self.redis is not None:  # Litestar does not close a store's client
            await self.redis.aclose()


def outermost_middleware(config: AppConfig) -> AppConfig:
    """Run after authentication's `on_app_init`, which puts its middleware first: a routed
    request gets its id and is counted before anything may refuse it. (Litestar runs middleware
    once a route is found: the served app's front, `serving/front.py`, gives every request its
    id.)"""
    config.middleware[:0] = [RequestId, HTTP_METRICS.middleware]
    return config


class Parts:
    """What one app holds, built from its settings, and started and stopped with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = db.use_database(settings.database_url)
        self.echo = EchoMarks(settings.secret_key)
        self.devices = DeviceCookies(settings.secret_key)
        self.session_config = sessions.session_config(settings.session_idle_minutes)
        self.shared = Shared.of(settings)
        self.hub = _hub(settings)
        self.changes = Changes()
        self.changes.on_commit(self.hub.committed)
        self.actors = ActorCache(settings.stream_recheck_s)
        self.login_throttle = throttle.LoginThrottle(
            counts=self.shared.login_counts,
            secret=settings.secret_key,
            per_account=settings.login_failures_per_account,
            per_ip=settings.login_failures_per_ip,
            per_account_global=settings.login_failures_per_account_global,
            lockout_minutes=settings.login_lockout_minutes,
        )
        self.passwords = Passwords(
            settings.password_threads, settings.password_queue, settings.password_profile
        )
        self.gc_pauses = GcPauses()
        self.exports = ExportSlots()
        self.fragments = FragmentCache()
        self.reloader = dev_reload.watcher(settings, self.hub, self.fragments)  # None unless DEBUG
        guard = StreamGuard(self.hub, self.shared.sessions, self.actors)
        self.chores = [
            Periodic("stream-guard", settings.stream_recheck_s, guard.sweep),
            Periodic(
                "sweep-expired",
                settings.sweep_every_s,
                lambda: sweep_expired(self.shared.sessions, self.shared.login_counts),
            ),
        ]

    async def start(self) -> None:
        await db.start(self.engine, self.settings.db_pool_size)
        await self.hub.start()
        for chore in self.chores:
            await chore.start()
        if self.reloader:
            await self.reloader.start()
        freeze_startup()
        self.gc_pauses.install()  # after the freeze: its own full collection is not a pause

    async def stop(self) -> None:
        if os.environ.get(METRICS_DIR_ENV):  # its live gauges (open streams) leave the sums
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
        self.gc_pauses.uninstall()
        thaw()
        try:
            if self.reloader:
                await self.reloader.stop()
            for chore in self.chores:
                await chore.stop()
            await self.hub.stop()
            await db.stop(self.engine)
        finally:
            self.passwords.close()
            await self.shared.close()

    def state(self, direct_writers: DirectWriters | None) -> State:
        """What handlers find on `request.app.state`."""
        return State(
            {
                "settings": self.settings,
                "hub": self.hub,
                "changes": self.changes,
                "login_throttle": self.login_throttle,
                "devices": self.devices,
                "passwords": self.passwords,
                "echo": self.echo,
                "session_config": self.session_config,
                "direct_writers": direct_writers,
                "fragments": self.fragments,
                "actors": self.actors,
                "gc_pauses": self.gc_pauses,
                "exports": self.exports,
            }
        )


def _hub(settings: Settings) -> Hub:
    return Hub(
        wording=toasts.wording,
        queue_limit=settings.stream_queue_limit,
        retention=settings.event_retention,
        max_age=timedelta(hours=settings.event_max_age_hours),
        prune_every_s=settings.prune_every_s,
        catch_up_s=settings.catch_up_s,
        heartbeat_s=settings.heartbeat_s,
        broker=broker_from_url(settings.broker_url, settings.namespace),
        streams_per_session=settings.streams_per_session,
        streams_per_user=settings.streams_per_user,
        refused_retry_s=settings.streams_retry_after_s,
    )


def _routes(settings: Settings) -> list[Any]:
    return [
        home,
        choose_language,
        AuthController,
        ExportController,
        PurchaseController,
        PurchaseFormController,
        events,
        health,
        ready,
        MetricsController,
        MonitorController,
        *([GalleryController] if settings.debug else []),  # designers' gallery
        create_static_files_router(
            path="/static",
            directories=[settings.static_dir],
            name="static",
            # In DEBUG a reload after an edit asks for the new file instead of a cached one.
            cache_control=CacheControlHeader(no_cache=True) if settings.debug else None,
        ),
    ]


def create_app(
    settings: Settings | None = None, direct_writers: DirectWriters | None = None
) -> Litestar:
    """The app for `settings` (from the environment when None). `direct_writers` finds, for a
    stream, a writer straight to its connection: the served app's (`serving/`), or None."""
    settings = settings or Settings.from_env()
    i18n.check_catalogs()  # each process reads them before its first request, not during it
    parts = Parts(settings)
    environment = jinja_environment(
        settings.templates_dir, auto_reload=settings.debug, dev_reload=settings.debug
    )
    environment.globals["new_tab"] = parts.echo.new_tab
    template_config = TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
    session_auth = SessionAuth[Actor, ServerSideSessionBackend](
        retrieve_user_handler=retrieve_actor,
        session_backend_config=parts.session_config,
        exclude=["^/static/"],
    )
    return Litestar(
        route_handlers=_routes(settings),
        request_class=HTMXRequest,
        template_config=template_config,
        csrf_config=CSRFConfig(
            secret=settings.secret_key, cookie_name="csrftoken", header_name="x-csrftoken"
        ),
        on_app_init=[session_auth.on_app_init, outermost_middleware],
        # Inside authentication, which puts itself first: the language may be the user's. Both
        # run before the CSRF check, which parses the form: bodies are bounded before that.
        middleware=[DefineMiddleware(Language, default=settings.default_language), BodyLimits],
        request_max_body_size=MAX_BODY,
        multipart_form_part_limit=MAX_FIELDS,
        before_send=[add_security_headers],
        logging_config=None,  # not Litestar's: it would replace logs.py's handler on the root
        openapi_config=None,
        plugins=[HTMXPlugin(), FlashPlugin(FlashConfig(template_config=template_config))],
        stores={sessions.STORE: parts.shared.sessions},
        exception_handlers={
            NotFound: worded(errors.not_found),
            ValidationFailed: worded(errors.bad_request),
            Forbidden: worded(errors.forbidden),
            HTTPException: worded(errors.http_error),
            Exception: worded(errors.unexpected),
        },
        on_startup=[parts.start],
        on_shutdown=[parts.stop],
        state=parts.state(direct_writers),
        debug=settings.debug,
    )
