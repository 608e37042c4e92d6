"""Search pages kept for visitors with nothing of their own on the page: reused, refreshed when
the index changes or time passes, never shared with a visitor who has a shortlist, and each
visitor's forms carry that visitor's own CSRF token."""
from __future__ import annotations

import re

import pytest
from flask.signals import before_render_template

from sitedir import page_cache
from sitedir.extensions import db
from tests.search_helpers import add_activity, index_now, rebuild

URL = "/search?q=walk"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def site(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, PAGE_CACHE_SECONDS=60)
    rebuild(app)
    return app


def _renders(app, client, url=URL) -> tuple[int, str]:
    """How many templates one request rendered, and the page."""
    rendered = []

    def count(sender, template, context, **extra):
        rendered.append(template.name)

    with before_render_template.connected_to(count, app):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(rendered), response.get_data(as_text=True)


def test_a_second_visitor_gets_the_kept_page_with_a_token_of_their_own(site):
    first, second = site.test_client(), site.test_client()
    rendered, page = _renders(site, first)
    assert rendered == 1 and TOKEN.search(page)
    rendered, again = _renders(site, second)
    assert rendered == 0  # served from the cache
    tokens = set(TOKEN.findall(again))
    assert len(tokens) == 1 and tokens != set(TOKEN.findall(page))
    assert TOKEN.sub("", again) == TOKEN.sub("", page)
    # The token put back is the second visitor's: their form posts are accepted.
    slug = re.search(r'name="slug" value="([^"]+)"', again).group(1)
    response = second.post("/shortlist/add", data={"slug": slug, "csrf_token": tokens.pop()})
    assert response.status_code in (302, 303), response.status_code


def test_a_visitor_with_a_shortlist_gets_a_page_of_their_own(site):
    anonymous, connector = site.test_client(), site.test_client()
    _renders(site, anonymous)
    _rendered, page = _renders(site, connector)
    slug = re.search(r'name="slug" value="([^"]+)"', page).group(1)
    connector.post("/shortlist/add", data={"slug": slug, "csrf_token": TOKEN.search(page)[1]})
    rendered, own = _renders(site, connector)
    assert rendered == 1
    assert own != page
    # ...and what their page showed (the shortlist) is not handed to the next visitor.
    rendered, other = _renders(site, site.test_client())
    assert rendered == 0 and TOKEN.sub("", other) == TOKEN.sub("", page)


def test_an_index_change_or_the_time_limit_means_a_new_page(site, monkeypatch):
    client = site.test_client()
    _renders(site, client)
    with site.app_context():
        add_activity("Canal walk for beginners", 53.8, -1.5)
        db.session.commit()
    assert _renders(site, client)[0] == 0  # not in the index yet: the kept page still holds
    index_now(site)
    rendered, page = _renders(site, client)
    assert rendered == 1 and "Canal walk for beginners" in page
    assert _renders(site, client)[0] == 0
    later = page_cache.time.monotonic() + 61
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    assert _renders(site, client)[0] == 1


def test_each_search_is_still_counted_when_its_page_was_kept(site):
    from sitedir.signals import search_done

    seen = []

    def count(sender, parsed, result, **extra):
        seen.append((parsed.request.text, result.total))

    with search_done.connected_to(count, site):
        for client in (site.test_client(), site.test_client(), site.test_client()):
            client.get(URL)
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0][1] > 0


def test_kept_pages_are_bounded_and_can_be_turned_off(make_app):
    cache = page_cache.PageCache(seconds=60, entries=2)
    for number in range(3):
        cache.put(number, f"page {number}", 200, None)
    assert cache.get(0) is None and cache.get(2).html == "page 2"
    app = make_app(PAGE_CACHE_SECONDS=0)
    rebuild(app)
    client = app.test_client()
    assert _renders(app, client)[0] == 1 and _renders(app, client)[0] == 1
