"""Sign-in by emailed link: lifetime, single use, GET does not consume, limits, sign out, TOTP."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from sitedir.extensions import db
from sitedir.manage.models import AuditEvent, SignInToken, User
from tests.manage_helpers import (
    emails_to, manage_app, request_link, sign_in, sign_in_privileged, totp_for,
)


@pytest.fixture()
def app(make_app):
    return manage_app(make_app)


def test_link_email_is_queued_and_token_stored_hashed(app) -> None:
    client = app.test_client()
    path = request_link(client, app, "Editor@Example.org")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes in url-safe base64: 256 bits
    with app.app_context():
        rows = db.session.scalars(select(SignInToken)).all()
        assert len(rows) == 1
        assert token not in rows[0].token_hash and len(rows[0].token_hash) == 64
        assert rows[0].email == "editor@example.org"


def test_get_shows_button_and_does_not_consume(app) -> None:
    client = app.test_client()
    path = request_link(client, app, "editor@example.org")
    for _ in range(3):  # a mail scanner fetching the link, then the person
        page = client.get(path)
        assert page.status_code == 200
        assert b">Sign in</button>" in page.data
    assert client.get("/manage/").status_code == 302  # still not signed in
    assert client.post(path).status_code == 302
    assert client.get("/manage/").status_code in (200, 302)
    assert client.get("/manage/organisations/harehills-friends").status_code == 200


def test_link_works_once(app) -> None:
    first, second = app.test_client(), app.test_client()
    path = request_link(first, app, "editor@example.org")
    assert first.post(path).status_code == 302
    assert second.get(path).status_code == 410
    assert second.post(path).status_code == 410
    assert second.get("/manage/organisations/harehills-friends").status_code == 302


def test_link_expires_after_configured_minutes(app) -> None:
    client = app.test_client()
    path = request_link(client, app, "editor@example.org")
    with app.app_context():
        row = db.session.scalar(select(SignInToken))
        lifetime = row.expires_at - row.created_at
        assert dt.timedelta(minutes=9, seconds=59) < lifetime <= dt.timedelta(minutes=10, seconds=1)
        db.session.execute(update(SignInToken).values(
            expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)))
        db.session.commit()
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410


def test_unknown_address_gets_same_answer_and_account_on_first_use(app) -> None:
    client = app.test_client()
    known = client.post("/manage/sign-in", data={"email": "editor@example.org"}).data
    unknown = client.post("/manage/sign-in", data={"email": "new@example.org"}).data
    assert known.replace(b"editor@", b"new@") == unknown  # no account enumeration
    sign_in(app.test_client(), app, "new@example.org")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user is not None and user.role == "" and user.memberships == []


def test_rate_limited_per_email_and_ip_and_per_ip(make_app) -> None:
    app = manage_app(make_app, SIGNIN_LIMIT_PER_EMAIL_AND_IP=2, SIGNIN_LIMIT_PER_IP=4)
    client = app.test_client()
    codes = [client.post("/manage/sign-in", data={"email": "a@example.org"}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    codes = [client.post("/manage/sign-in", data={"email": f"b{i}@example.org"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]  # 4 from this IP in the hour
    other_ip = app.test_client()
    response = other_ip.post("/manage/sign-in", data={"email": "c@example.org"},
                             environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 200
    # The owner of a@, on their own network, is not locked out by the requests above.
    response = other_ip.post("/manage/sign-in", data={"email": "a@example.org"},
                             environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 200
    assert len(emails_to(app, "a@example.org")) == 3


def test_invalid_email_shows_error_summary(app) -> None:
    response = app.test_client().post("/manage/sign-in", data={"email": "not an email"})
    assert response.status_code == 400
    assert b"There is a problem" in response.data and b'href="#email"' in response.data


def test_sign_out_invalidates_the_session_cookie(app) -> None:
    client = sign_in(app.test_client(), app, "editor@example.org")
    stolen = client.get_cookie("session").value
    assert client.post("/manage/sign-out").status_code == 302
    assert client.get("/manage/organisations/harehills-friends").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)  # a copy of the old cookie is no use either
    assert replay.get("/manage/organisations/harehills-friends").status_code == 302


def test_next_only_follows_same_site_paths(app) -> None:
    client = app.test_client()
    client.post("/manage/sign-in",
                data={"email": "mod@example.org", "next": "https://evil.example/"})
    body = emails_to(app, "mod@example.org")[-1].text_body
    path = "/" + body.split("http://localhost/", 1)[1].split()[0]
    assert client.post(path).headers["Location"].endswith("/manage/")


def test_sign_ins_are_audited(app) -> None:
    client = sign_in(app.test_client(), app, "mod@example.org")
    client.post("/manage/sign-out")
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["signin.requested", "signin.success", "signout"]


def test_admin_pages_need_totp_enrolment_then_a_code(app) -> None:
    client = sign_in(app.test_client(), app, "admin@example.org")
    response = client.get("/manage/admin")
    assert response.status_code == 302 and "/manage/two-factor" in response.headers["Location"]
    enrol = client.get("/manage/two-factor")
    assert b"otpauth://totp/" in enrol.data and b"Set up your authenticator app" in enrol.data
    wrong = client.post("/manage/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400 and b"There is a problem" in wrong.data
    assert client.get("/manage/admin").status_code == 302
    code = totp_for(app, "admin@example.org")
    enrolled = client.post("/manage/two-factor", data={"code": code})
    assert enrolled.status_code == 200 and b"Save your recovery codes" in enrolled.data
    assert client.get("/manage/admin").status_code == 200
    # A new session (after sign out and in again) asks for a code again, without re-enrolling.
    client.post("/manage/sign-out")
    sign_in(client, app, "admin@example.org")
    assert client.get("/manage/admin").status_code == 302
    again = client.get("/manage/two-factor")
    assert b"Enter your authenticator code" in again.data and b"otpauth://" not in again.data
    # The code just used cannot be replayed.
    assert client.post("/manage/two-factor", data={"code": code}).status_code == 400


def test_two_factor_is_for_moderators_and_admins(app) -> None:
    client = sign_in(app.test_client(), app, "editor@example.org")
    assert client.get("/manage/two-factor").status_code == 403
    moderator = sign_in(app.test_client(), app, "mod@example.org")
    assert moderator.get("/manage/two-factor").status_code == 200
    assert moderator.get("/manage/admin").status_code == 403


def test_users_create_command(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "New@Example.org", "--role", "editor",
                                 "--organisation", "gipton-befrienders"])
    assert result.exit_code == 0
    assert "new@example.org: editor of gipton-befrienders" in result.output
    missing = runner.invoke(args=["users", "create", "x@example.org", "--role", "editor"])
    assert missing.exit_code != 0 and "needs --organisation" in missing.output
    unknown = runner.invoke(args=["users", "create", "x@example.org", "--role", "editor",
                                  "--organisation", "nope"])
    assert unknown.exit_code != 0 and "no organisation" in unknown.output
    client = sign_in(app.test_client(), app, "new@example.org")
    assert client.get("/manage/organisations/gipton-befrienders/edit").status_code == 200
    listing = runner.invoke(args=["users", "list"]).output
    assert "new@example.org\teditor\tgipton-befrienders" in listing


def test_signed_out_page_says_so(app) -> None:
    client = sign_in(app.test_client(), app, "editor@example.org")
    page = client.post("/manage/sign-out", follow_redirects=True).data.decode()
    assert "You have signed out." in page and "<h1 class=\"govuk-heading-xl\">Sign in</h1>" in page


def test_reset_totp_makes_the_admin_enrol_again(app) -> None:
    client = sign_in_privileged(app.test_client(), app, "admin@example.org")
    assert client.get("/manage/admin").status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "reset-totp", "admin@example.org"])
    assert result.exit_code == 0
    assert client.get("/manage/admin").status_code == 302  # signed out everywhere
    sign_in(client, app, "admin@example.org")
    assert b"Set up your authenticator app" in client.get("/manage/two-factor").data
