"""Security headers on every response, and cookies marked Secure when served over HTTPS."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

# No inline scripts or styles anywhere: htmx is configured with includeIndicatorStyles and
# allowEval off, and every behaviour lives in static/js/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A before-send hook: it sees every response, router 404s and error pages included. A page
    that says nothing of caching is kept by no cache, the browser's included: Back after a
    logout must not show what only a signed-in person could see."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers[name] = value
    if "cache-control" not in headers and headers.get("content-type", "").startswith("text/html"):
        headers["cache-control"] = "no-store"
    if scope.get("scheme") == "https":
        headers["strict-transport-security"] = HSTS
        cookies = headers.getall("set-cookie", [])
        headers.pop("set-cookie", None)
        for cookie in cookies:
            headers.add("set-cookie", cookie if "secure" in cookie.lower() else f"{cookie}; Secure")
