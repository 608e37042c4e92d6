"""The mail sender's claims under kills: what a dead sender leaves, and who sends it again."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select, update

from sitedir import mail
from sitedir.extensions import db
from sitedir.mail import OutboxEmail
from tests.connect_support import FAST, LocalSMTPServer


@pytest.fixture()
def smtp_server():
    with LocalSMTPServer() as server:
        yield server


@pytest.fixture()
def outbox(make_app, smtp_server):
    """An app with three queued emails."""
    app = make_app(content=None, **{**FAST, **smtp_server.config(), "MAIL_CLAIM_TIMEOUT": 300})
    with app.app_context():
        for number in range(3):
            mail.enqueue(f"person{number}@example.org", "Hello", "Text", "<p>HTML</p>")
        db.session.commit()
    return app


def _dead_sender() -> str:
    """The name of a sender process on this host that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{mail.socket.gethostname()}:{process.pid}"


def _leave(status: str, owner: str) -> None:
    db.session.execute(update(OutboxEmail).values(status=status, claimed_by=owner,
                                                  claimed_at=mail.utcnow(), attempts=1))
    db.session.commit()


def test_the_final_dot_waits_for_the_committing_record(outbox, smtp_server) -> None:
    seen_at_dot = []

    def check() -> None:  # what the database and the server hold just before the dot
        seen_at_dot.append((db.session.scalar(select(OutboxEmail.status).where(
            OutboxEmail.status == mail.COMMITTING)), len(smtp_server.messages)))

    with outbox.app_context():
        row_id = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id))
        assert mail._claim(row_id, mail.utcnow(), mail.utcnow())
        row = db.session.get(OutboxEmail, row_id)
        backend = mail.get_backend(outbox)
        with backend.session() as deliver:
            deliver(mail.build_message(row, outbox), row.idempotency_key,
                    lambda: (mail._committing(row_id), check()))
    assert seen_at_dot == [(mail.COMMITTING, 0)]  # recorded, and not yet accepted
    assert len(smtp_server.messages) == 1


def test_a_dead_senders_claims_are_taken_back_at_once_and_sent_once(
        outbox, smtp_server) -> None:
    with outbox.app_context():
        _leave(mail.SENDING, _dead_sender())  # killed before the dot: the server has nothing
        report = mail.send_pending()
        assert report.sent == 3 and report.due == 3
        assert mail.send_pending().due == 0
    assert len(smtp_server.messages) == 3


def test_a_live_senders_claims_are_left_alone(outbox, smtp_server) -> None:
    with outbox.app_context():
        _leave(mail.SENDING, f"{mail.socket.gethostname()}:1")  # pid 1 is alive
        assert mail.send_pending().sent == 0
        _leave(mail.SENDING, "another-host:123")  # a sender elsewhere: wait for its lease
        assert mail.send_pending().sent == 0
    assert smtp_server.messages == []


def test_unconfirmed_emails_go_again_with_the_same_message_id(
        outbox, smtp_server, caplog) -> None:
    with outbox.app_context():
        _leave(mail.COMMITTING, _dead_sender())  # killed between the dot and "sent"
        keys = set(db.session.scalars(select(OutboxEmail.idempotency_key)))
        assert mail.send_pending().sent == 3
    assert "not confirmed" in caplog.text
    assert {m["Message-ID"].split("@")[0].lstrip("<") for m in smtp_server.messages} == keys


def test_a_sender_whose_claim_was_taken_over_does_not_finish(outbox, smtp_server) -> None:
    with outbox.app_context():
        row_id = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id))
        assert mail._claim(row_id, mail.utcnow(), mail.utcnow())
        # Our lease ran out and another sender took the row meanwhile.
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == row_id)
                           .values(claimed_by="another-host:9"))
        db.session.commit()
        with pytest.raises(mail.ClaimLost):
            mail._committing(row_id)
        assert db.session.get(OutboxEmail, row_id).status == mail.SENDING


def test_a_backlog_is_sent_in_one_wake_not_one_batch_per_poll(make_app, smtp_server) -> None:
    app = make_app(content=None, **{**FAST, **smtp_server.config()})
    with app.app_context():
        for number in range(25):
            mail.enqueue(f"person{number}@example.org", "Hello", "Text", "<p>HTML</p>")
        db.session.commit()
        report = mail.send_due(batch=10)
    assert report.sent == 25
    assert len(smtp_server.messages) == 25
