"""Retention: `flask privacy purge` erases what the privacy notice says it erases, on time."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select, update

from sitedir import mail, privacy
from sitedir.connect.models import ProblemReport, Recommendation, Suggestion
from sitedir.extensions import db
from sitedir.mail import OutboxEmail
from tests.connect_support import FAST, RECOMMENDATION, submit

KNIT = "harehills-knit-and-natter"
EMAIL = {**RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"}


def _age_everything(days: float) -> None:
    """Pretend every row was made `days` ago."""
    then = mail.utcnow() - dt.timedelta(days=days)
    for model in (OutboxEmail, Recommendation, Suggestion, ProblemReport):
        db.session.execute(update(model).values(created_at=then))
    db.session.commit()


def test_purge_erases_unsent_email_and_names_after_retention(make_app) -> None:
    app = make_app(**FAST, PRIVACY_RETENTION_DAYS=7)
    client = app.test_client()
    submit(client, f"/activities/{KNIT}/recommend", EMAIL)  # never sent: no worker ran
    submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)  # print, with a note
    with app.app_context():
        # Within the retention period nothing is touched.
        _age_everything(6.9)
        assert str(privacy.purge()).startswith("0 unsent emails expired")
        assert db.session.scalar(select(OutboxEmail.to_address)) == "alex@example.org"

        _age_everything(7.1)
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 unsent emails expired" in result.output
    assert "2 recommendations erased" in result.output
    assert "alex" not in result.output.lower()
    with app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        assert (row.status, row.to_address, row.text_body, row.html_body) == (
            "expired", None, None, None)
        for recommendation in db.session.scalars(select(Recommendation)):
            assert recommendation.person_name is None and recommendation.note is None
            assert recommendation.recommender_name is None
            assert recommendation.recommender_organisation is None
            assert recommendation.erased_at is not None
            # What is kept for the anonymous counts.
            assert recommendation.role == "library" and recommendation.month
            assert recommendation.items[0].activity_uuid
        # An expired email is never sent afterwards.
        assert mail.send_pending().sent == 0
        # Nothing personal remains anywhere in the recommendation tables or the outbox.
        dump = "\n".join(str(value) for table in ("recommendation", "outbox_email")
                         for row in db.session.execute(select(db.metadata.tables[table]))
                         for value in row)
        for personal in ("alex@example.org", "Alex", "Sam Reader", "Leeds Central Library",
                         "Ask for Pat"):
            assert personal not in dump


def test_purge_deletes_moderation_reports_after_their_own_period(make_app) -> None:
    app = make_app(**FAST, MODERATION_RETENTION_DAYS=180)
    client = app.test_client()
    submit(client, "/suggest", {"group_name": "A choir", "description": "We sing."})
    submit(client, f"/activities/{KNIT}/report", {"reason": "closed"})
    with app.app_context():
        _age_everything(179)
        privacy.purge()
        assert db.session.scalar(select(func.count(Suggestion.id))) == 1
        _age_everything(181)
        report = privacy.purge()
        assert (report["suggestions deleted"], report["problem reports deleted"]) == (1, 1)
        assert db.session.scalar(select(func.count(ProblemReport.id))) == 0


def test_the_print_sheet_keeps_working_without_the_note_after_purge(make_app) -> None:
    app = make_app(**FAST)
    client = app.test_client()
    url = submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION).location
    assert "Ask for Pat" in client.get(url + "/print").text
    with app.app_context():
        _age_everything(8)
        privacy.purge()
    sheet = client.get(url + "/print")
    assert sheet.status_code == 200 and "Knit and Natter" in sheet.text
    assert "Ask for Pat" not in sheet.text and "Alex" not in sheet.text


def test_no_personal_data_in_logs(make_app, caplog) -> None:
    app = make_app(**{**FAST, "MAIL_BACKEND": "smtp", "MAIL_HOST": "127.0.0.1", "MAIL_PORT": 1,
                      "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 2, "MAIL_MAX_ATTEMPTS": 1})
    # Alembic's fileConfig (run by the migrations) removes root handlers, caplog's too, and
    # disables loggers that existed before it: put both back.
    logging.getLogger().addHandler(caplog.handler)
    logging.getLogger("sitedir.mail").disabled = False
    caplog.set_level(logging.DEBUG)
    submit(app.test_client(), f"/activities/{KNIT}/recommend", EMAIL)
    with app.app_context():
        assert mail.send_pending().failed == 1  # server unreachable, one attempt allowed
        privacy.purge()
    assert caplog.records  # the failure was logged...
    for personal in ("alex@example.org", "Alex", "Sam Reader", "Ask for Pat"):
        assert personal not in caplog.text  # ...without saying who it was for


def test_connect_pages_are_never_cached(client) -> None:
    for url in ("/shortlist", f"/activities/{KNIT}/recommend", "/suggest",
                f"/activities/{KNIT}/report"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
