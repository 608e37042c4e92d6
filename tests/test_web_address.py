"""One rule for web addresses from any source: http(s) only, and never a link otherwise."""
from __future__ import annotations

from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir.inputs import OrganisationIn
from sitedir.extensions import db
from sitedir.models import Activity, Organisation
from sitedir.web_address import WebAddressError, is_web_address, link_target, web_address

BAD = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
       "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
       "vbscript:msgbox(1)", "//evil.example", "ftp://example.org", "mailto:a@example.org",
       "https://user:pw@evil.example", "https://", "example.org", "http://exa mple.org"]
GOOD = ["https://example.org", "http://example.org/path?q=1#top", "https://sub.example.co.uk:8443/"]


@pytest.mark.parametrize("value", BAD)
def test_anything_but_an_http_address_is_refused(value: str) -> None:
    assert not is_web_address(value)
    assert link_target(value) == ""
    with pytest.raises(WebAddressError):
        web_address(value)


@pytest.mark.parametrize("value", GOOD)
def test_http_and_https_addresses_are_kept(value: str) -> None:
    assert web_address(value) == value and link_target(value) == value


def test_content_files_use_the_same_rule() -> None:
    with pytest.raises(ValueError, match="https://"):
        OrganisationIn.model_validate({"name": "X", "website": "javascript:alert(1)"})
    assert OrganisationIn.model_validate({"name": "X", "website": ""}).website == ""


def test_a_bad_address_already_in_the_database_is_never_a_link(
        make_app: Callable[..., Flask]) -> None:
    site = make_app()
    with site.app_context():
        activity = db.session.scalar(select(Activity).order_by(Activity.id))
        organisation = activity.organisation
        organisation.website = "javascript:alert(document.cookie)"
        db.session.commit()
        slugs = activity.slug, organisation.slug, organisation.uuid
    client = site.test_client()
    for path in (f"/activities/{slugs[0]}", f"/organisations/{slugs[1]}"):
        page = client.get(path)
        assert page.status_code == 200
        assert "javascript:" not in page.get_data(as_text=True)
    service = client.get(f"/openreferral/services/{activity_uuid(site, slugs[0])}").get_json()
    assert "website" not in service["organization"]


def activity_uuid(site: Flask, slug: str) -> str:
    with site.app_context():
        return db.session.scalar(select(Activity.uuid).where(Activity.slug == slug))


def test_an_imported_script_address_is_dropped_with_a_warning(
        make_app: Callable[..., Flask], tmp_path) -> None:
    site = make_app(content=None)
    path = tmp_path / "feed.json"
    path.write_text('{"contents": [{"id": "s1", "name": "Group", "organization": {"id": "o1", '
                    '"name": "Org", "website": "javascript:alert(1)"}}]}')
    result = site.test_cli_runner().invoke(args=["import", "oruk", str(path)])
    assert result.exit_code == 0
    assert "organization.website: 'javascript:alert(1)' dropped" in result.output
    with site.app_context():
        assert db.session.scalar(select(Organisation.website)) == ""
