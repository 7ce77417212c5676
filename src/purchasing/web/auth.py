"""Signing in and out."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from purchasing.i18n import _
from purchasing.services.passwords import Busy
from purchasing.services.users import authenticate, load_actor
from purchasing.web.devices import COOKIE as DEVICE_COOKIE
from purchasing.web.devices import DeviceCookies
from purchasing.web.responses import client_details, safe_next
from purchasing.web.sessions import session_id, start_new_session
from purchasing.web.throttle import LoginThrottle

log = logging.getLogger("purchasing.auth")
LOGIN_TEMPLATE = "auth/login.html.j2"
MAX_FIELD = 256
BUSY_RETRY_S = 5


class AuthController(Controller):
    @get("/login", name="login", exclude_from_auth=True)
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = ""
    ) -> Template | Redirect:
        if request.session.get("user_id") and await load_actor(request.session["user_id"]):
            return Redirect(safe_next(next, request))
        return Template(LOGIN_TEMPLATE, context={"next": next, "error": "", "username": ""})

    @post("/login", name="login_submit", exclude_from_auth=True)
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Rate-limited by source and by account, refused before any hashing once a limit is
        reached (`web/throttle.py`); a success starts a brand-new session, and leaves the browser
        a device cookie that keeps it out of the account's shared lockout."""
        form = await request.form()
        username = str(form.get("username", "")).strip()[:MAX_FIELD]
        password = str(form.get("password", ""))[:MAX_FIELD]
        next_url = str(form.get("next", ""))[:MAX_FIELD]
        ip, _agent = client_details(request)
        throttle: LoginThrottle = request.app.state.login_throttle
        devices: DeviceCookies = request.app.state.devices
        device = devices.read(request.cookies.get(DEVICE_COOKIE, ""))
        context = {"next": next_url, "username": username}
        attempt = await throttle.admit(username, ip, device)
        if attempt.refusal:
            log.warning(
                "login refused",
                extra={"client": ip, "outcome": "too many failures", "scope": attempt.refused_by},
            )
            return _refused(context, attempt.refusal, 429, throttle.lockout_minutes * 60)
        try:
            actor = await authenticate(username, password, request.app.state.passwords)
        except Busy as busy:
            await throttle.withdraw(attempt)
            log.warning("login refused", extra={"client": ip, "outcome": "busy"})
            return _refused(context, str(busy), 503, BUSY_RETRY_S)
        if actor is None:
            throttle.failed(attempt)
            # Not the username typed: people type their password into that box too.
            log.info("login failed", extra={"client": ip, "outcome": "wrong username or password"})
            return _refused(context, _("Wrong username or password."), 401)
        await throttle.succeeded(attempt)
        await start_new_session(request, {"user_id": actor.id})
        log.info("login", extra={"user_id": actor.id, "user": actor.username, "outcome": "ok"})
        signed_in = Redirect(safe_next(next_url, request), status_code=303)
        signed_in.set_cookie(devices.issue(device, username, secure=request.url.scheme == "https"))
        return signed_in

    @post("/logout", name="logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """End the session and this process's streams of it (other processes' within seconds)."""
        ended = session_id(request)
        request.app.state.hub.close_streams_of(lambda owner: owner.session_id == ended)
        request.clear_session()
        return Redirect(request.app.route_reverse("login"), status_code=303)


def _refused(
    context: dict[str, str], error: str, status_code: int, retry_after_s: int | None = None
) -> Template:
    headers = {} if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return Template(
        LOGIN_TEMPLATE,
        context={**context, "error": error},
        status_code=status_code,
        headers=headers,
    )
