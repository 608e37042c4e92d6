"""Static files under fingerprinted names cached for a year; responses compressed."""
from __future__ import annotations

import gzip
import os
import re


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_fingerprinted_static_files_cached_for_a_year(client) -> None:
    urls = static_urls(client.get("/").get_data(as_text=True))
    assert any(re.search(r"/css/sitedir\.[0-9a-f]{10}\.css$", url) for url in urls)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_plain_and_outdated_static_names_are_cached_briefly(client) -> None:
    # Files named from inside CSS or JS (Leaflet's images, the GOV.UK Frontend module) keep their
    # plain names; a page cached with an old digest still gets today's file.
    for url in ("/static/css/sitedir.css", "/static/css/sitedir.0123456789.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=3600", url
        assert b"govuk" in response.get_data(), url
    assert client.get("/static/nothing-here.css").status_code == 404
    assert client.get("/static/../setup.cfg").status_code == 404


def test_a_changed_file_gets_a_new_name(tmp_path) -> None:
    from sitedir.assets import Fingerprints

    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "a.css"
    sheet.write_text("body { color: red }")
    fingerprints = Fingerprints(tmp_path)
    first = fingerprints.name("css/a.css")
    assert re.fullmatch(r"css/a\.[0-9a-f]{10}\.css", first)
    assert fingerprints.original(first) == "css/a.css"
    sheet.write_text("body { color: blue }")
    os.utime(sheet, (1, 1))
    second = fingerprints.name("css/a.css")
    assert second != first
    assert fingerprints.original(first) is None and fingerprints.original(second) == "css/a.css"


def test_html_json_and_static_files_are_compressed(client) -> None:
    for url in ("/", "/search?q=walking", "/search.json?q=walking"):
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip", url
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert len(packed.data) < len(plain.data) / 2
        assert gzip.decompress(packed.data) == plain.data
        brotli = client.get(url, headers={"Accept-Encoding": "br"})
        assert brotli.headers["Content-Encoding"] == "br", url
    sheet = next(u for u in static_urls(client.get("/").get_data(as_text=True)) if ".css" in u)
    assert client.get(sheet, headers={"Accept-Encoding": "br"}).headers["Content-Encoding"] == "br"


def test_compression_can_be_left_to_a_reverse_proxy(make_app) -> None:
    client = make_app(content=None, COMPRESS_RESPONSES=False).test_client()
    response = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers


def test_activity_pages_and_feeds_answer_repeat_visits_with_304(client) -> None:
    for url in ("/activities/harehills-knit-and-natter", "/activities.atom", "/sitemap.xml",
                "/activities/harehills-knit-and-natter.ics"):
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and not again.data, url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200, url
        # Compressed, the ETag names the encoding, and a repeat still gets its 304.
        packed = client.get(url, headers={"Accept-Encoding": "gzip"})
        if packed.headers.get("Content-Encoding") == "gzip":
            assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match":
                              packed.headers["ETag"]}).status_code == 304, url
    atom = client.get("/activities.atom")
    assert atom.headers["Last-Modified"]
    assert client.get("/activities.atom", headers={
        "If-Modified-Since": atom.headers["Last-Modified"]}).status_code == 304
    page = client.get("/activities/harehills-knit-and-natter")
    assert page.headers["Cache-Control"] == "private, no-cache"  # it carries a CSRF token
    assert "Last-Modified" not in page.headers  # its next session changes with the clock
