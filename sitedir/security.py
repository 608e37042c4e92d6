"""Security headers on every response, the session cookie's flags, and the reverse proxy.

The Content-Security-Policy allows scripts and styles from this site only (no inline script or
style anywhere: templates load static files), images from this site, data: URIs (the QR codes)
and the configured map tile server. Strict-Transport-Security goes out on HTTPS responses, as
seen through werkzeug's ProxyFix when TRUSTED_PROXY_COUNT proxies sit in front.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Pages whose URL carries a secret: the browser must not send it on as a Referer.
SECRET_URL_ENDPOINTS = frozenset({
    "manage.sign_in_link", "manage.sign_in_confirm", "manage.reminder",
    "manage.reminder_answer", "connect.confirmation",
    "connect.print_sheet",
})


def tile_source(tile_url: str) -> str:
    """The CSP source for a Leaflet tile URL template: its scheme and host, with {s}. → *."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    host = parts.netloc
    if parts.scheme not in ("http", "https") or not host:
        return ""
    if "{" in host:  # subdomain placeholders like {s}.tile.example.org
        host = "*." + host.split(".", 1)[1] if "." in host else ""
        if "{" in host or not host:
            return ""
    return f"{parts.scheme}://{host}"


def content_security_policy(app: Flask) -> str:
    """The policy, built once from the settings."""
    images = " ".join(filter(None, ("'self'", "data:", tile_source(app.config["MAP_TILE_URL"]))))
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def _hsts(app: Flask) -> str:
    seconds = int(app.config["HSTS_SECONDS"])
    if seconds <= 0:
        return ""
    value = f"max-age={seconds}"
    return value + "; includeSubDomains" if app.config["HSTS_INCLUDE_SUBDOMAINS"] else value


def add_security_headers(response: Response) -> Response:
    """Every response: HTML, JSON, feeds, files and error pages alike."""
    app = current_app
    headers = response.headers
    headers.setdefault("Content-Security-Policy", app.extensions["sitedir_csp"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    if request.endpoint in SECRET_URL_ENDPOINTS:
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        if request.blueprint == "manage":  # signed-in pages: never in a shared cache
            headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.is_secure and app.extensions["sitedir_hsts"]:
        headers.setdefault("Strict-Transport-Security", app.extensions["sitedir_hsts"])
    return response


def configure_cookies(app: Flask) -> None:
    """Session cookie flags: HttpOnly always, SameSite=Lax, Secure when the site is HTTPS."""
    config = app.config
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = str(config["PUBLIC_BASE_URL"]).startswith("https://")
    config["SESSION_COOKIE_HTTPONLY"] = True
    if config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        raise ValueError("SESSION_COOKIE_SAMESITE must be Lax or Strict")
    # Flask-Login's remember-me cookie is not used, but if it ever is it gets the same flags.
    config.setdefault("REMEMBER_COOKIE_SECURE", config["SESSION_COOKIE_SECURE"])
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", config["SESSION_COOKIE_SAMESITE"])


def init_app(app: Flask) -> None:
    configure_cookies(app)
    proxies = int(app.config["TRUSTED_PROXY_COUNT"])
    if proxies > 0:  # only then are X-Forwarded-For/-Proto/-Host believed
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies, x_port=proxies, x_prefix=proxies)
    app.extensions["sitedir_csp"] = content_security_policy(app)
    app.extensions["sitedir_hsts"] = _hsts(app)
    app.after_request(add_security_headers)
