"""Links to pages named by a slug, with each route built once per request."""
from __future__ import annotations

from urllib.parse import quote

from flask import g, url_for

_SLUG_MARK = "slug-mark"


def slug_url(endpoint: str, slug: str) -> str:
    """url_for(endpoint, slug=slug), with the route built once per request: a page of cards
    and map markers asks for dozens to a thousand of them."""
    routes = g.setdefault("slug_routes", {})
    route = routes.get(endpoint)
    if route is None:
        route = routes[endpoint] = tuple(url_for(endpoint, slug=_SLUG_MARK).split(_SLUG_MARK, 1))
    return route[0] + quote(slug, safe="") + route[1]


def activity_url(slug: str) -> str:
    """url_for('public.activity', slug=slug), built once per request (see slug_url)."""
    return slug_url("public.activity", slug)
