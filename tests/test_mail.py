"""Email through a real SMTP server (aiosmtpd on 127.0.0.1:0): content, consent, outbox safety."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from sitedir import create_app, mail
from sitedir.connect.models import Recommendation
from sitedir.extensions import db
from sitedir.mail import OutboxEmail
from tests.connect_support import FAST, RECOMMENDATION, LocalSMTPServer, error_messages, submit

KNIT = "harehills-knit-and-natter"
EMAIL = {**RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"}
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def smtp_server():
    with LocalSMTPServer() as server:
        yield server


@pytest.fixture()
def smtp_app(make_app, smtp_server):
    return make_app(**{**FAST, **smtp_server.config()})


def _parts(message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode(part.get_content_charset())
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset())
    return text, html


def _outbox_count(app, **filters) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxEmail.id)).filter_by(**filters))


def test_email_content_text_and_html_then_personal_data_erased(smtp_app, smtp_server) -> None:
    client = smtp_app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend",
                      {**EMAIL, "note": "See you <b>Tuesday</b> & bring tea"})
    assert response.status_code == 302
    with smtp_app.app_context():
        report = mail.send_pending()
    assert (report.sent, report.failed) == (1, 0)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.envelopes[0][1] == ["alex@example.org"]  # one recipient, never more
    assert message["To"] == "alex@example.org"
    assert message["From"] == "Find community activities <no-reply@localhost>"
    assert message["Subject"] == "An activity recommended for you: Knit and Natter"
    assert message["Auto-Submitted"] == "auto-generated"
    with smtp_app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        assert message["Message-ID"] == f"<{row.idempotency_key}@localhost>"

    text, html = _parts(message)
    for expected in ("Hello Alex,", "Sam Reader, Leeds Central Library (Library) used Find "
                     "community activities to send you", "See you <b>Tuesday</b> & bring tea",
                     "Knit and Natter", "Run by Harehills Friends", "Tuesdays, 10am to midday",
                     "Cost: Free", "How to join: Just turn up.", "Sue, 07700 900001",
                     f"http://localhost/activities/{KNIT}",
                     "We do not keep your email address"):
        assert expected in text, expected
    assert '<html lang="en-GB">' in html and "Hello Alex," in html
    assert "See you &lt;b&gt;Tuesday&lt;/b&gt; &amp; bring tea" in html  # escaped, not markup
    assert f'<a href="http://localhost/activities/{KNIT}"' in html
    assert "We do not keep your email address" in html

    # Sent: the address and body are gone, and so are the recommendation's names and note.
    with smtp_app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        assert (row.status, row.to_address, row.text_body, row.html_body) == (
            "sent", None, None, None)
        recommendation = db.session.scalar(select(Recommendation))
        assert (recommendation.person_name, recommendation.note, recommendation.recommender_name,
                recommendation.recommender_organisation) == (None, None, None, None)
        assert (recommendation.role, recommendation.delivery) == ("library", "email")
        assert recommendation.items[0].activity.slug == KNIT
    page = client.get(response.location).text
    assert "The email has been sent. We have deleted their email address." in page


def test_no_consent_no_email(smtp_app, smtp_server) -> None:
    client = smtp_app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend", {**EMAIL, "consent": ""})
    assert response.status_code == 400
    assert "Confirm they have agreed to get this email" in error_messages(response.text)
    assert _outbox_count(smtp_app) == 0
    # Header injection and lists of addresses are refused before anything is stored.
    for address in ("alex@example.org\r\nBcc: victim@example.org", "a@example.org;b@example.org"):
        response = submit(client, f"/activities/{KNIT}/recommend", {**EMAIL, "email": address})
        assert response.status_code == 400
    assert _outbox_count(smtp_app) == 0
    with smtp_app.app_context():
        assert mail.send_pending().sent == 0
    assert smtp_server.messages == []


def test_outbox_survives_a_crash_after_thank_you_and_sends_once(make_app, smtp_server) -> None:
    """A separate process commits a recommendation, then is killed before anything is sent."""
    app = make_app(**{**FAST, **smtp_server.config()})
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent(f"""
        import os, signal
        from sitedir import create_app
        from tests.connect_support import submit, FAST, RECOMMENDATION
        app = create_app({{"TESTING": True, "SECRET_KEY": "test-secret",
                          "SQLALCHEMY_DATABASE_URI": {database!r}, "WTF_CSRF_ENABLED": False,
                          "PUBLIC_BASE_URL": "http://localhost",
                          "MAIL_SEND_IN_BACKGROUND": False, **FAST}})
        response = submit(app.test_client(), "/activities/{KNIT}/recommend",
                          {{**RECOMMENDATION, "delivery": "email", "email": "alex@example.org",
                           "consent": "y"}})
        assert response.status_code == 302, response.status_code
        print("thank you page at", response.location, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the crash: nothing after the commit runs
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == -9, result.stderr
    assert "thank you page at /recommendations/" in result.stdout
    assert smtp_server.messages == []

    restarted = create_app({**app.config, "MAIL_SEND_IN_BACKGROUND": False})
    with restarted.app_context():
        assert mail.send_pending().sent == 1
        assert mail.send_pending().sent == 0  # nothing left, nothing sent twice
    assert len(smtp_server.messages) == 1
    assert _outbox_count(restarted, status="sent") == 1


def test_a_sender_that_dies_mid_send_is_retried_once_with_the_same_message_id(
        make_app, smtp_server) -> None:
    app = make_app(**{**FAST, **smtp_server.config(), "MAIL_CLAIM_TIMEOUT": 60})
    submit(app.test_client(), f"/activities/{KNIT}/recommend", EMAIL)
    with app.app_context():
        row_id = db.session.scalar(select(OutboxEmail.id))
        now = mail.utcnow()
        # A sender claims the row and dies before finishing it.
        assert mail._claim(row_id, now, now - dt.timedelta(seconds=60))
        # While the claim is fresh, nobody else sends it.
        assert mail.send_pending().sent == 0
        assert smtp_server.messages == []
        # Once the claim is stale it is tried again: once.
        db.session.execute(update(OutboxEmail).values(
            claimed_at=now - dt.timedelta(seconds=61)))
        db.session.commit()
        assert mail.send_pending().sent == 1
        assert mail.send_pending().sent == 0
        key = db.session.get(OutboxEmail, row_id).idempotency_key
    assert [m["Message-ID"] for m in smtp_server.messages] == [f"<{key}@localhost>"]


def test_concurrent_senders_never_send_one_email_twice(make_app, smtp_server) -> None:
    app = make_app(**{**FAST, **smtp_server.config()})
    with app.app_context():
        for number in range(8):
            mail.enqueue(f"person{number}@example.org", "Hello", "Text", "<p>HTML</p>", kind="t")
        db.session.commit()
    reports = []

    def sender() -> None:
        with app.app_context():
            reports.append(mail.send_pending())
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(report.sent for report in reports) == 8
    recipients = sorted(rcpt for _, rcpts in smtp_server.envelopes for rcpt in rcpts)
    assert recipients == sorted(f"person{n}@example.org" for n in range(8))


def test_temporary_failure_retries_later_and_permanent_failure_erases(
        make_app, smtp_server) -> None:
    app = make_app(**{**FAST, **smtp_server.config()})
    with app.app_context():
        mail.enqueue("alex@example.org", "Hello", "Text", "<p>HTML</p>")
        db.session.commit()
        smtp_server.refuse_with = "451 Try again later"
        report = mail.send_pending()
        assert (report.sent, report.retrying) == (0, 1)
        row = db.session.scalar(select(OutboxEmail))
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMTPDataError 451")
        assert row.to_address == "alex@example.org"  # kept: it still has to go
        assert row.next_attempt_at > mail.utcnow() + dt.timedelta(seconds=20)
        assert mail.send_pending().sent == 0  # not due yet
        row.next_attempt_at = mail.utcnow()
        db.session.commit()
        assert mail.send_pending().sent == 1

        mail.enqueue("nobody@example.org", "Hello", "Text", "<p>HTML</p>")
        db.session.commit()
        smtp_server.refuse_with = "550 No such user"
        assert mail.send_pending().failed == 1
        failed = db.session.scalar(select(OutboxEmail).where(OutboxEmail.status == "failed"))
        assert (failed.to_address, failed.text_body, failed.last_error) == (
            None, None, "SMTPDataError 550")


def test_unreachable_server_is_a_retry_not_a_crash(make_app) -> None:
    app = make_app(**{**FAST, "MAIL_BACKEND": "smtp", "MAIL_HOST": "127.0.0.1", "MAIL_PORT": 1,
                      "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 2})
    with app.app_context():
        mail.enqueue("alex@example.org", "Hello", "Text", "<p>HTML</p>")
        db.session.commit()
        report = mail.send_pending()
        assert report.retrying == 1
        assert db.session.scalar(select(OutboxEmail.last_error)) == "ConnectionRefusedError"


def test_file_backend_is_the_offline_default_and_idempotent(make_app, tmp_path) -> None:
    assert mail.mail_dir(make_app(**FAST)).name == "mail"  # instance/mail unless configured
    app = make_app(**FAST, MAIL_FILE_DIR=str(tmp_path / "outgoing"))
    assert isinstance(mail.get_backend(app), mail.FileBackend)
    submit(app.test_client(), f"/activities/{KNIT}/recommend", EMAIL)
    result = app.test_cli_runner().invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0 and "1 sent" in result.output
    files = list(mail.mail_dir(app).glob("*.eml"))
    assert len(files) == 1
    with app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        assert files[0].name == f"{row.idempotency_key}.eml"
        # Delivering the same key again (a resend after a crash) writes nothing new.
        backend = mail.get_backend(app)
        again = OutboxEmail(to_address="alex@example.org", subject=row.subject, text_body="x",
                            idempotency_key=row.idempotency_key)  # the row itself is erased
        backend.send(mail.build_message(again, app), row.idempotency_key)
    assert len(list(mail.mail_dir(app).glob("*.eml"))) == 1
    assert "To: alex@example.org" in files[0].read_text()
    assert os.stat(files[0]).st_size > 500


def test_background_sender_thread_sends_after_wake(make_app, smtp_server) -> None:
    app = make_app(**{**FAST, **smtp_server.config(), "MAIL_POLL_SECONDS": 30})
    thread = mail.start_background_sender(app)
    assert thread is not None
    try:
        submit(app.test_client(), f"/activities/{KNIT}/recommend", EMAIL)  # wakes the sender
        for _ in range(100):
            if smtp_server.messages:
                break
            threading.Event().wait(0.05)
        assert len(smtp_server.messages) == 1
    finally:
        app.extensions["sitedir_mail_stop"].set()
        mail.wake(app)
        thread.join(5)
    assert not thread.is_alive()


def test_a_commit_that_queues_an_email_wakes_the_sender_and_a_rollback_does_not(make_app) -> None:
    app = make_app(**FAST)
    event = mail._wake_event(app)
    with app.app_context():
        event.clear()
        mail.enqueue("alex@example.org", "Hello", "text", "", kind="test")
        db.session.flush()
        assert not event.is_set()  # not before the row is committed and visible to the sender
        db.session.rollback()
        db.session.commit()
        assert not event.is_set()
        mail.enqueue("alex@example.org", "Hello", "text", "", kind="test")
        db.session.commit()
        assert event.is_set()
