"""Security and privacy hardening (issue 11), tested with the payloads that found each problem.

1 headers (CSP, HSTS, cookies) · 2 text that breaks out of its field · 3 email addresses ·
4 tokens in logs · 5 the second factor for every privileged action · 6 limits that hold ·
7 open redirects · 8 personal data at rest.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select, update

from sitedir import crypto, logs, mail, privacy
from sitedir.extensions import db
from sitedir.links import safe_next
from sitedir.mail import OutboxEmail
from sitedir.manage.models import AuditEvent, Claim, RecoveryCode, SignInToken, User
from sitedir.models import Activity
from sitedir.security import tile_source
from sitedir.text import TextError, clean_line, clean_text, email_address
from tests.connect_support import FAST, RECOMMENDATION, hidden_value, submit
from tests.manage_helpers import (
    activity_form, emails_to, manage_app, request_link, sign_in, sign_in_privileged, totp_for,
)

REPO = Path(__file__).resolve().parent.parent
KNIT = "harehills-knit-and-natter"
BAD_ADDRESSES = ["victim,evil@example.org", "victim@example.org,evil@example.org",
                 "<victim@example.org>", "Victim <victim@example.org>", '"a b"@example.org',
                 "victim@example.org\x00", "victim\r\nBcc: evil@example.org",
                 "victim@example.org;evil@example.org", "not an email"]


# --- 1. headers on every response -------------------------------------------------------------

def _sample_path(rule) -> str:
    """A concrete URL for a rule: real slugs where a slug goes, something plausible elsewhere."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        values[name] = 1 if converter == "IntegerConverter" else (
            KNIT if name == "slug" else "running" if name == "answer" else "x")
    return rule.build(values, append_unknown=False)[1]


def _assert_security_headers(response, what: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
                      "form-action 'self'", "img-src 'self' data:"):
        assert directive in csp, (what, directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy") in (
        "strict-origin-when-cross-origin", "no-referrer"), what
    assert response.status_code != 500, (what, response.status_code)  # 503: /healthz


def test_every_route_and_response_type_carries_the_security_headers(app: Flask) -> None:
    client = app.test_client()
    seen = 0
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0]
        path = _sample_path(rule)
        # POST-only routes are asked with GET too: the 405 error page needs the headers.
        for verb in {method, "GET"}:
            _assert_security_headers(client.open(path, method=verb), f"{verb} {path}")
            seen += 1
    assert seen > 60
    kinds = {"/": "text/html", "/search.json?q=walk": "application/json",
             "/activities.atom": "application/atom+xml", "/sitemap.xml": "xml",
             f"/activities/{KNIT}.ics": "text/calendar", "/static/js/sitedir.js": "javascript",
             "/no-such-page": "text/html", "/openreferral/services/nope": "application/json"}
    for path, kind in kinds.items():
        response = client.get(path)
        assert kind in response.content_type, (path, response.content_type)
        _assert_security_headers(response, path)
    assert "Strict-Transport-Security" not in client.get("/").headers  # plain HTTP: no HSTS


def test_hsts_over_https_and_behind_a_trusted_proxy_only(make_app) -> None:
    app = make_app(content=None, TRUSTED_PROXY_COUNT=1, PUBLIC_BASE_URL="https://example.org")
    client = app.test_client()
    proxied = client.get("/static/js/sitedir.js", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/static/js/sitedir.js").headers
    direct = make_app(content=None).test_client()  # no proxy trusted: the header is ignored
    ignored = direct.get("/static/js/sitedir.js", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in ignored.headers
    assert "Strict-Transport-Security" in direct.get(
        "/static/js/sitedir.js", base_url="https://localhost").headers


def test_session_cookie_flags_follow_the_public_address(make_app) -> None:
    secure = make_app(content=None, PUBLIC_BASE_URL="https://directory.example.org")
    cookie = secure.test_client().get("/suggest", base_url="https://localhost").headers.get(
        "Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    plain = make_app(content=None)  # http://localhost in tests: a Secure cookie would be lost
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert "SameSite=Lax" in plain.test_client().get("/suggest").headers["Set-Cookie"]


def test_the_configured_tile_host_is_allowed_for_images(make_app) -> None:
    app = make_app(content=None, MAP_TILE_URL="https://{s}.tiles.example.net/{z}/{x}/{y}.png")
    csp = app.test_client().get("/static/js/sitedir.js").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.net;" in csp


def test_tile_host_is_allowed_for_images() -> None:
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == \
        "https://tile.openstreetmap.org"
    assert tile_source("https://{s}.tiles.example.net/{z}/{x}/{y}.png") == \
        "https://*.tiles.example.net"
    assert tile_source("") == "" and tile_source("javascript:alert(1)") == ""


def test_no_template_has_inline_script_or_style() -> None:
    """The CSP allows neither; JSON data blocks are not script (script-src does not run them)."""
    problems = []
    for path in (REPO / "sitedir" / "templates").rglob("*.html"):
        if path.parent.name == "email":  # emails need inline style; they are not web pages
            continue
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and not re.search(r'type="application/(ld\+)?json"', tag):
                problems.append(f"{path.name}: {tag}")
        problems += [f"{path.name}: <style>" for _ in re.findall(r"<style\b", text)]
        problems += [f"{path.name}: {m}" for m in re.findall(r"\s(style|on[a-z]+)=\"", text)]
    assert problems == []


# --- 2. text that breaks out of its field ------------------------------------------------------

@pytest.mark.parametrize("raw, line, text", [
    ("Walk\r\nBcc: evil@example.org", "Walk Bcc: evil@example.org",
     "Walk\nBcc: evil@example.org"),
    ("Knit\x00 and natter", "Knit and natter", "Knit and natter"),
    ("Zero\u200bwidth\ufeff", "Zerowidth", "Zerowidth"),
    ("Cafe\u0301", "Café", "Café"),  # NFC
    ("  tabs\tand  spaces ", "tabs and spaces", "tabs\tand  spaces"),
    ("one\u2028two\x85three", "one two three", "one\ntwo\nthree"),
    ("\U0001f469\u200d\U0001f467 family", "\U0001f469\u200d\U0001f467 family",
     "\U0001f469\u200d\U0001f467 family"),  # a joiner inside an emoji stays
])
def test_one_normalisation_for_every_field(raw: str, line: str, text: str) -> None:
    assert clean_line(raw) == line
    assert clean_text(raw) == text


@pytest.mark.parametrize("override", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068"])
def test_bidi_overrides_are_refused(override: str) -> None:
    for clean in (clean_line, clean_text):
        with pytest.raises(TextError) as refused:
            clean(f"Knit{override}txt.exe")
        assert refused.value.code == "bidi"


def _publish_title(app: Flask, title: str):
    """A moderator (second factor given) edits the title: it publishes at once."""
    client = sign_in_privileged(app.test_client(), app, "mod@example.org")
    return client.post(f"/manage/activities/{KNIT}/edit",
                       data=activity_form(app, KNIT, title=title))


def test_a_title_with_a_line_break_is_one_line_everywhere(make_app) -> None:
    app = manage_app(make_app, **FAST)
    assert _publish_title(app, "Knit\r\nand Natter\x00").status_code == 302
    with app.app_context():
        title = db.session.scalar(select(Activity.title).where(Activity.slug == KNIT))
    assert title == "Knit and Natter"
    client = app.test_client()
    assert client.get(f"/activities/{KNIT}.ics").status_code == 200
    ET.fromstring(client.get("/activities.atom").data)  # valid XML


def test_bidi_in_a_form_field_is_refused_with_a_message_on_the_field(make_app) -> None:
    app = manage_app(make_app, **FAST)
    response = _publish_title(app, "Knit \u202eand Natter")
    assert response.status_code == 400
    assert "Name of the activity must not contain hidden characters" in response.text
    assert 'href="#title"' in response.text
    suggest = submit(app.test_client(), "/suggest", {
        "group_name": "Chess\u202e club", "description": "Weekly chess"})
    assert suggest.status_code == 400 and "must not contain hidden characters" in suggest.text


def test_text_already_stored_cannot_break_feeds_calendars_or_emails(make_app, tmp_path) -> None:  # noqa: E501
    """Rows written before the rule (or by hand) are made safe where headers and XML are built."""
    app = manage_app(make_app, **FAST, MAIL_FILE_DIR=str(tmp_path / "mail"))
    with app.app_context():
        db.session.execute(update(Activity).where(Activity.slug == KNIT).values(
            title="Knit\r\nBcc: evil@example.org\x00 \u202eand natter"))
        db.session.commit()
    client = app.test_client()
    assert client.get(f"/activities/{KNIT}.ics").status_code == 200
    assert client.get(f"/activities/{KNIT}").status_code == 200
    ET.fromstring(client.get("/activities.atom").data)
    response = submit(client, f"/activities/{KNIT}/recommend", {
        **RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"})
    assert response.status_code == 302
    with app.app_context():
        report = mail.send_pending()
    assert report.sent == 1 and report.failed == 0
    message = email.message_from_bytes(next(mail.mail_dir(app).glob("*.eml")).read_bytes(),
                                       policy=email.policy.default)
    assert message.get_all("Bcc") is None and message.get_all("To") == ["alex@example.org"]
    assert message["Subject"].strip() == "An activity recommended for you: Knit Bcc: " \
        "evil@example.org and natter"


def test_content_files_go_through_the_same_rule(content_copy: Path) -> None:
    from sitedir.content import read_catalogue

    path = content_copy / "directory" / "organisations" / "harehills-friends.yaml"
    text = path.read_text()
    title = "title: Knit and Natter"
    assert title in text
    path.write_text(text.replace(title, 'title: "Line\\r\\nbreak\\u200b"', 1))
    catalogue = read_catalogue(content_copy)
    assert not catalogue.errors
    titles = [a.title for org in catalogue.organisations.values() for a in org.activities]
    assert "Line break" in titles
    path.write_text(text.replace(title, 'title: "Evil\\u202etxt"', 1))
    errors = read_catalogue(content_copy).errors
    assert any("title" in error and "hidden characters" in error for error in errors), errors


# --- 3. email addresses --------------------------------------------------------------------------

@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_one_address_or_nothing(address: str) -> None:
    with pytest.raises(TextError):
        email_address(address)


def test_addresses_are_normalised() -> None:
    assert email_address(" Someone@Example.ORG ") == "Someone@example.org"


@pytest.mark.parametrize("address", BAD_ADDRESSES[:6])
def test_sign_in_refuses_anything_but_one_address(app: Flask, address: str) -> None:
    client = app.test_client()
    with app.app_context():
        before = db.session.scalar(select(func.count(OutboxEmail.id)))
    response = client.post("/manage/sign-in", data={"email": address})
    assert response.status_code == 400 and 'href="#email"' in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == before


def test_recommend_and_listing_forms_refuse_bad_addresses(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = app.test_client()
    for address in ("victim,evil@example.org", "<victim@example.org>"):
        response = submit(client, f"/activities/{KNIT}/recommend", {
            **RECOMMENDATION, "delivery": "email", "email": address, "consent": "y"})
        assert response.status_code == 400 and "correct format" in response.text
    editor = sign_in(app.test_client(), app, "editor@example.org")
    response = editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(
        app, KNIT, contact_email="a@example.org,b@example.org"))
    assert response.status_code == 400 and 'href="#contact_email"' in response.text


def test_an_address_that_cannot_be_sent_to_fails_and_is_erased(make_app, tmp_path) -> None:  # noqa: E501
    """Even a bad address already in the outbox: no raw value ever reaches a To: header."""
    app = make_app(**FAST, MAIL_FILE_DIR=str(tmp_path / "mail"))
    with app.app_context():
        row = mail.enqueue("victim@example.org,evil@example.org", "Hi", "body", "")
        db.session.commit()
        report = mail.send_pending()
        row = db.session.get(OutboxEmail, row.id)
        assert report.failed == 1 and row.status == "failed" and row.attempts == 1
        assert row.to_address is None and row.text_body is None
    assert not list(mail.mail_dir(app).glob("*.eml"))


def test_a_failed_email_shows_on_the_confirmation_page(make_app) -> None:
    app = make_app(**FAST)
    client = app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend", {
        **RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"})
    with app.app_context():
        db.session.execute(update(OutboxEmail).values(to_address="alex@example.org\r\nBcc: x"))
        db.session.commit()
        assert mail.send_pending().failed == 1
    page = client.get(response.location).text
    assert "The email could not be sent" in page and "Email on its way" not in page


def test_an_email_no_sender_finishes_is_failed_after_the_maximum(make_app) -> None:
    app = make_app(**FAST, MAIL_MAX_ATTEMPTS=3, MAIL_CLAIM_TIMEOUT=0)
    with app.app_context():
        row = mail.enqueue("alex@example.org", "Hi", "body", "")
        db.session.flush()
        row.status, row.attempts = mail.SENDING, 3  # three senders died mid-send
        row.claimed_at = dt.datetime(2020, 1, 1)
        db.session.commit()
        assert mail.send_pending().failed == 1
        row = db.session.get(OutboxEmail, row.id)
        assert row.status == "failed" and row.to_address is None


# --- 4. tokens out of logs ------------------------------------------------------------------------

def test_tokens_never_reach_a_log_line(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    token = "Q2hhbmdlIG1lIHBsZWFzZSB0aGlzIGlzIGEgdG9rZW4x"
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info(
            '127.0.0.1 - - "GET /manage/sign-in/%s HTTP/1.1" 200 -', token)
        logging.getLogger("gunicorn.access").info(
            '"%s %s" %s', "POST", f"/manage/reminders/{token}/running", 200)
        app.logger.error("Unhandled error on %s %s", "POST", f"/recommendations/{token}")
        logging.getLogger("waitress").warning(f"/prefix/manage/sign-in/{token}?next=/x")
    assert len(caplog.records) == 4
    for record in caplog.records:
        assert token not in record.getMessage() and logs.REDACTED in record.getMessage()


def test_the_documented_access_log_format_has_no_query_referrer_or_address() -> None:
    from sitedir import gunicorn_conf

    fmt = gunicorn_conf.access_log_format
    assert "%(U)s" in fmt  # the path without its query string
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(h)s", "%({"):
        assert atom not in fmt


def test_reminder_links_are_short_lived_and_their_get_only_shows_a_button(make_app) -> None:
    from sitedir.manage.reminders import send_reminders

    app = manage_app(make_app, **FAST)
    assert app.config["REMINDER_LINK_DAYS"] <= 7
    with app.test_request_context("/"):
        db.session.execute(update(Activity).values(last_reviewed=dt.date(2020, 1, 1)))
        db.session.commit()
        send_reminders()
    body = emails_to(app, "editor@example.org")[-1].text_body
    link = re.search(r"Closed: https?://[^/]+(\S+)", body).group(1)
    page = app.test_client().get(link)
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert db.session.scalar(select(Activity.status).where(Activity.slug == KNIT)) != \
            "closed"


# --- 5. the second factor for every privileged action ---------------------------------------------

def test_a_moderator_signed_in_by_email_alone_can_do_nothing_privileged(make_app) -> None:
    app = manage_app(make_app, **FAST)
    editor = sign_in(app.test_client(), app, "other@example.org")
    editor.post("/manage/claim/organisation/harehills-friends", data={"role_in_group": "Chair"})
    with app.app_context():
        claim_id = db.session.scalar(select(Claim.id))
    for address in ("mod@example.org", "admin@example.org"):
        client = sign_in(app.test_client(), app, address)
        for method, path in [("GET", "/manage/queue"), ("GET", "/manage/admin"),
                             ("POST", f"/manage/queue/claims/{claim_id}/approve"),
                             ("POST", "/manage/admin/organisations/harehills-friends/trust"),
                             ("GET", f"/manage/activities/{KNIT}/edit"),
                             ("POST", "/manage/queue/suggestions/1/close")]:
            response = client.open(path, method=method, data={"trusted": "yes"})
            location = response.headers.get("Location", "")
            refused = response.status_code == 403 or "/manage/two-factor" in location
            assert refused, (address, method, path, response.status_code)
    with app.app_context():
        assert db.session.scalar(select(Claim.status)) == "pending"  # no edit rights granted


def test_a_moderator_without_the_second_factor_cannot_publish_without_review(make_app) -> None:
    """Their own organisation's edit goes to the queue like anyone's."""
    app = manage_app(make_app, **FAST)
    with app.app_context():
        from sitedir.manage.cli import create_user
        create_user("mod@example.org", "moderator", "harehills-friends")
    client = sign_in(app.test_client(), app, "mod@example.org")
    response = client.post(f"/manage/activities/{KNIT}/edit",
                           data=activity_form(app, KNIT, title="Knit and Chat"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Activity.title).where(Activity.slug == KNIT)) != \
            "Knit and Chat"


def test_a_used_code_is_refused_even_from_another_session(make_app) -> None:
    app = manage_app(make_app, **FAST)
    first = sign_in(app.test_client(), app, "mod@example.org")
    first.get("/manage/two-factor")
    code = totp_for(app, "mod@example.org")
    assert first.post("/manage/two-factor", data={"code": code}).status_code == 200  # enrolled
    second = sign_in(app.test_client(), app, "mod@example.org")
    replay = second.post("/manage/two-factor", data={"code": code})
    assert replay.status_code == 400
    assert second.get("/manage/queue").status_code == 302


def test_wrong_codes_are_rate_limited(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = sign_in(app.test_client(), app, "admin@example.org")
    client.get("/manage/two-factor")
    codes = [client.post("/manage/two-factor", data={"code": f"{n:06d}"}).status_code
             for n in range(300)]
    assert codes[:5] == [400] * 5 and set(codes[5:]) == {429}
    # From another IP the account is still limited (per account, not only per address).
    other = client.post("/manage/two-factor", data={"code": "123456"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 429


def test_recovery_codes_work_once_each(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = sign_in(app.test_client(), app, "admin@example.org")
    client.get("/manage/two-factor")
    code = totp_for(app, "admin@example.org")
    enrolled = client.post("/manage/two-factor", data={"code": code})
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", enrolled.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert emails_to(app, "admin@example.org")[-1].kind == "totp-enrolled"
    lost_phone = sign_in(app.test_client(), app, "admin@example.org")
    used = lost_phone.post("/manage/two-factor", data={"code": codes[0].upper()})
    assert used.status_code == 302
    assert lost_phone.get("/manage/admin").status_code == 200
    again = sign_in(app.test_client(), app, "admin@example.org")
    assert again.post("/manage/two-factor", data={"code": codes[0]}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(RecoveryCode.id)).where(
            RecoveryCode.used_at.is_(None))) == 9
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert not any(code.replace("-", "") in value for value in stored for code in codes)


def test_totp_secrets_are_stored_encrypted(make_app, tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    app = manage_app(make_app, **FAST, ENCRYPTION_KEY=key)
    sign_in_privileged(app.test_client(), app, "admin@example.org")
    with app.app_context():
        stored = db.session.scalar(select(User.totp_secret).where(
            User.email == "admin@example.org"))
        plain = crypto.decrypt(stored)
    assert stored.startswith("gAAAAA") and plain not in stored
    assert re.fullmatch(r"[A-Z2-7]{32}", plain)
    # Rotation: a new key first, the old one after it, still decrypts.
    rotated = Flask("rotated", instance_path=str(tmp_path))
    rotated.config["ENCRYPTION_KEY"] = f"{Fernet.generate_key().decode()},{key}"
    with rotated.app_context():
        assert crypto.decrypt(stored) == plain
    wrong = Flask("wrong", instance_path=str(tmp_path))
    wrong.config["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    with wrong.app_context(), pytest.raises(crypto.DecryptError):
        crypto.decrypt(stored)


def test_a_legacy_plain_secret_is_encrypted_at_next_use(make_app) -> None:
    app = manage_app(make_app, **FAST)
    secret = pyotp.random_base32()
    with app.app_context():
        db.session.execute(update(User).where(User.email == "mod@example.org").values(
            totp_secret=secret, totp_confirmed=True))
        db.session.commit()
    client = sign_in(app.test_client(), app, "mod@example.org")
    client.get("/manage/two-factor")
    with app.app_context():
        stored = db.session.scalar(select(User.totp_secret).where(
            User.email == "mod@example.org"))
        assert stored != secret and crypto.decrypt(stored) == secret
    response = client.post("/manage/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302


# --- 6. limits that hold --------------------------------------------------------------------------

def test_claims_registrations_and_changes_are_limited_per_account(make_app) -> None:
    app = manage_app(make_app, **FAST, CLAIM_LIMIT_PER_DAY=2, CHANGE_LIMIT_PER_HOUR=2)
    client = sign_in(app.test_client(), app, "new@example.org")
    organisations = ["harehills-friends", "gipton-befrienders", "wharfedale-walkers"]
    statuses = [client.post(f"/manage/claim/organisation/{slug}",
                            data={"role_in_group": "Chair"}).status_code for slug in organisations]
    assert statuses == [302, 302, 429]
    refused = client.post(f"/manage/claim/organisation/{organisations[2]}",
                          data={"role_in_group": "Chair"})
    assert refused.status_code == 429 and "try again tomorrow" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Claim.id))) == 2
    # The same organisation twice: one claim, one round of moderator emails.
    before = len(emails_to(app, "mod@example.org"))
    again = client.post(f"/manage/claim/organisation/{organisations[0]}",
                        data={"role_in_group": "Chair"})
    assert again.status_code == 302 and len(emails_to(app, "mod@example.org")) == before
    editor = sign_in(app.test_client(), app, "editor@example.org")
    edits = [editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(
        app, KNIT, summary=f"Summary number {n}")).status_code for n in range(3)]
    assert edits == [302, 302, 429]


def test_registrations_are_limited_per_day(make_app) -> None:
    from sitedir.manage.limits import check_change
    from werkzeug.exceptions import TooManyRequests

    app = manage_app(make_app, **FAST, REGISTER_LIMIT_PER_DAY=1)
    from sitedir.manage.models import ChangeRequest

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "editor@example.org"))
        check_change(user, ChangeRequest(kind="register"))
        db.session.add(ChangeRequest(kind="register", payload={}, submitted_by_id=user.id))
        db.session.add(ChangeRequest(kind="activity", payload={}, submitted_by_id=user.id,
                                     status="draft"))  # unsent drafts do not count
        db.session.commit()
        with pytest.raises(TooManyRequests):
            check_change(user, ChangeRequest(kind="register"))
        check_change(user, ChangeRequest(kind="activity"))  # other kinds are still accepted


def test_public_form_timer_is_bound_to_its_session_and_works_once(make_app) -> None:
    app = make_app(**FAST)
    first = app.test_client()
    page = first.get("/suggest").text
    payload = {"started": hidden_value(page, "started"), "group_name": "Chess club",
               "description": "Weekly chess"}
    assert first.post("/suggest", data=payload).status_code == 302
    replay = first.post("/suggest", data=payload)  # the same timer again
    assert replay.status_code == 400 and "could not accept" in replay.text
    cookieless = app.test_client()  # no cookie: a new session, not the timer's
    assert cookieless.post("/suggest", data=payload).status_code == 400
    from sitedir.connect.models import Suggestion

    with app.app_context():
        assert db.session.scalar(select(func.count(Suggestion.id))) == 1


# --- 7. open redirects ----------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "javascript:alert(1)", "/x\r\nSet-Cookie: a=b", " /x",
    "\x00/x", "/" + "a" * 400, None, 42,
])
def test_safe_next_refuses(target: object) -> None:
    assert safe_next(target, "/fallback") in ("/fallback", "/%09/evil.example")


def test_safe_next_keeps_own_paths() -> None:
    assert safe_next("/search?q=walk&near=LS9#results") == "/search?q=walk&near=LS9#results"


def test_no_redirect_leaves_the_site_or_fails(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = app.test_client()
    for target in ("/\t/evil.example", "/x\r\nLocation: //evil.example", "//evil.example"):
        response = client.post("/shortlist/add", data={"slug": KNIT, "next": target})
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert not re.match(r"(https?:)?//", location.replace("http://localhost", ""))
    client = app.test_client()
    client.post("/manage/sign-in",
                data={"email": "mod@example.org", "next": "/manage/\r\nX-Evil: 1"})
    path = request_link(client, app, "mod@example.org")
    response = client.post(path)
    assert response.status_code == 302 and "evil" not in response.headers["Location"].lower()
    page = client.get("/manage/sign-in?next=/%09/evil.example")
    assert page.status_code == 302 and not re.match(r"(https?:)?//", page.headers[
        "Location"].replace("http://localhost", ""))


# --- 8. personal data at rest ---------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_mail_files_and_folders_are_private_and_purged(make_app, tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        app = make_app(**FAST, MAIL_FILE_DIR=str(tmp_path / "mail"))
        submit(app.test_client(), f"/activities/{KNIT}/recommend", {
            **RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"})
        with app.app_context():
            assert mail.send_pending().sent == 1
    finally:
        os.umask(old_umask)
    folder = mail.mail_dir(app)
    eml = next(folder.glob("*.eml"))
    assert _mode(folder) == 0o700 and _mode(eml) == 0o600
    fresh = folder / "fresh.eml"
    fresh.write_text("x")
    old = dt.datetime.now().timestamp() - 8 * 86400
    os.utime(eml, (old, old))
    with app.app_context():
        report = privacy.purge()
    assert report["mail files deleted"] == 1 and not eml.exists() and fresh.exists()


def test_database_instance_folder_and_keys_are_private(make_app, tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        app = make_app(content=None)
        crypto_key = Path(app.instance_path) / "encryption_key"
    finally:
        os.umask(old_umask)
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    assert _mode(database) == 0o600
    assert _mode(Path(app.instance_path)) == 0o700
    assert _mode(crypto_key) == 0o600


def test_typed_addresses_and_ips_have_a_retention(make_app) -> None:
    app = manage_app(make_app, **FAST)
    app.test_client().post("/manage/sign-in", data={"email": "someone.else@example.org"})
    sign_in(app.test_client(), app, "editor@example.org")
    with app.app_context():
        assert db.session.scalar(select(func.count(SignInToken.id))) == 2
        later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=8)
        report = privacy.purge(now=later)
        assert report["sign-in requests deleted"] == 2
        assert db.session.scalar(select(func.count(SignInToken.id))) == 0
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.target == "someone.else@example.org")) == 1  # kept 90 days
        report = privacy.purge(now=later + dt.timedelta(days=90))
        assert report["typed addresses erased from the audit log"] == 2  # both requests
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.target == "someone.else@example.org")) == 0
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.ip != "")) == 0


def test_the_privacy_page_lists_every_store() -> None:
    notice = (REPO / "content" / "pages" / "privacy.md").read_text().lower()
    for store in ("sign-in", "audit", "authenticator", "mail folder", "session cookie",
                  "server logs", "rate-limit", "reminder", "suggestion", "recommendation"):
        assert store in notice, store
