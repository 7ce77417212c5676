"""Signing in and out."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from purchasing.services.users import authenticate, load_actor
from purchasing.web.responses import safe_next

LOGIN_TEMPLATE = "auth/login.html.j2"


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
        form = await request.form()
        username = str(form.get("username", "")).strip()
        next_url = str(form.get("next", ""))
        actor = await authenticate(username, str(form.get("password", "")))
        if actor is None:
            context = {
                "next": next_url,
                "error": "Wrong username or password.",
                "username": username,
            }
            return Template(LOGIN_TEMPLATE, context=context, status_code=401)
        request.clear_session()
        request.set_session({"user_id": actor.id})
        return Redirect(safe_next(next_url, request), status_code=303)

    @post("/logout", name="logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect(request.app.route_reverse("login"), status_code=303)
