"""Email: an outbox table written in the caller's transaction, drained by one sender.

A request never talks to a mail server. It adds an OutboxEmail row in the same transaction as
the thing the email is about, so a crash after "thank you" loses nothing. `send_pending()` (run
by `flask mail worker`, `flask mail send-pending` or the background thread `sitedir.serve`
starts) claims due rows with a conditional UPDATE (status "sending", this sender's name and a
lease), so two senders never send one row, then sends each over one SMTP connection and erases
the address and body.

At most one copy, as far as SMTP allows: a server accepts a message only at the final "." of
DATA. Just before sending that dot the row is moved to "committing" (only if this sender still
holds the claim), and to "sent" as soon as the server answers. A sender killed before the dot
leaves a "sending" row the server never accepted: it is sent again, safely. Only a kill between
the dot and the "sent" commit (one round trip) leaves a "committing" row that may have arrived;
it is sent again with the same Message-ID (the idempotency key), so a server can drop the
repeat, and the file backend never writes one key twice. A claim whose sender is dead (same
host, process gone) is taken back at once; others after MAIL_CLAIM_TIMEOUT.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import smtplib
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Callable, Iterator, Protocol

import click
from flask.cli import AppGroup
from flask import Flask, current_app, has_app_context
from sqlalchemy import DateTime, Integer, String, Text, and_, event, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import files, privacy
from .extensions import db
from .links import public_host
from .models import utcnow
from .text import TextError, email_address, header_text

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, EXPIRED = "pending", "sending", "sent", "failed", "expired"
COMMITTING = "committing"  # the final "." of DATA is on its way: the server may have it
CLAIMED = (SENDING, COMMITTING)
CLAIM_BATCH = 20  # rows claimed at once: small, so a dead sender's lease holds back few
# Waits between attempts; the last repeats until MAIL_MAX_ATTEMPTS.
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)


class OutboxEmail(db.Model):
    """One email waiting to go (or the anonymous trace of one that went)."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(40), default="")  # e.g. "recommendation"
    subject: Mapped[str] = mapped_column(String(200), default="")
    # Personal data: erased as soon as the email is sent, fails for good or expires.
    to_address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The sender's own address for replies, only when they asked for it (same erasure).
    reply_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    text_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Which sender holds the claim: "host:pid", so a dead sender's claim on this host is
    # taken back at once instead of after MAIL_CLAIM_TIMEOUT.
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    last_error: Mapped[str] = mapped_column(String(200), default="")  # never an address
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    def erase_personal_data(self) -> None:
        """Forget who it was for and what it said; keep that it existed and how it ended."""
        self.to_address = None
        self.reply_to = None
        self.text_body = None
        self.html_body = None

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.status}>"


def enqueue(to_address: str, subject: str, text_body: str, html_body: str,
            kind: str = "", reply_to: str | None = None) -> OutboxEmail:
    """Add an email to the outbox in the current transaction; the caller commits."""
    row = OutboxEmail(to_address=to_address, subject=subject, text_body=text_body,
                      html_body=html_body, kind=kind, status=PENDING, reply_to=reply_to or None,
                      idempotency_key=str(uuid.uuid4()), next_attempt_at=utcnow())
    db.session.add(row)
    return row


# --- building and sending -------------------------------------------------------------------

def sender_address(app: Flask) -> str:
    """MAIL_FROM, or the site name at no-reply@ the public host."""
    configured = app.config.get("MAIL_FROM") or ""
    if configured:
        return configured
    with app.app_context():
        host = public_host()
    return formataddr((app.config["SITE_NAME"], f"no-reply@{host or 'localhost'}"))


class UnsendableEmail(ValueError):
    """An outbox row no message can be built from (a bad address, a broken header): it fails
    at once rather than being retried for ever."""


def build_message(row: OutboxEmail, app: Flask) -> EmailMessage:
    """The MIME message for an outbox row: plain text with an HTML alternative.

    Headers are built only from safe values: the recipient is re-checked as exactly one
    address, the subject is made one line (sitedir.text), so nothing in a listing's title
    can add a header or a recipient.
    """
    try:
        to_address = email_address(row.to_address or "", check_deliverability=False)
    except TextError as error:
        raise UnsendableEmail("the recipient is not one valid email address") from error
    message = EmailMessage()
    message["From"] = sender_address(app)
    message["To"] = to_address
    if row.reply_to:
        message["Reply-To"] = header_text(row.reply_to)
    message["Subject"] = header_text(row.subject or "")
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = parseaddr(message["From"])[1].rpartition("@")[2] or "localhost"
    # The idempotency key as Message-ID: a resend after a crash is recognisably the same email.
    message["Message-ID"] = f"<{row.idempotency_key}@{domain}>"
    # Sent because a person asked for it, but nothing should auto-reply to it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text_body or "")
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


class Backend(Protocol):
    def send(self, message: EmailMessage, key: str) -> None: ...


@dataclass
class FileBackend:
    """Writes each email as an .eml file: the offline default, so `make run` needs no server."""

    directory: Path

    def send(self, message: EmailMessage, key: str) -> None:
        # Addresses, notes and live sign-in links: 0600 files in a 0700 folder, and
        # `flask privacy purge` deletes them after PRIVACY_RETENTION_DAYS.
        files.private_folder(self.directory)
        target = self.directory / f"{key}.eml"
        if target.exists():  # already delivered under this key: sending twice is a no-op
            return
        files.write_private(target, message.as_bytes())


@dataclass
class ConsoleBackend:
    """Prints each email to standard output, for development only (it shows personal data)."""

    stream: object = field(default_factory=lambda: sys.stdout)

    def send(self, message: EmailMessage, key: str) -> None:
        print(message.as_string(), file=self.stream, flush=True)


class ClaimLost(Exception):
    """Another sender took this email over (our lease ran out): do not finish sending it."""


class _HookedFinalDot:
    """An smtplib client that calls `before_final_dot()` just before the "." ending DATA."""

    before_final_dot: Callable[[], None] | None = None
    _in_data = False

    def data(self, msg):
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s):
        # smtplib sends the dot-stuffed message and the closing ".\r\n" in one call: split it.
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self._in_data = False
            super().send(s[:-3])
            if self.before_final_dot is not None:
                self.before_final_dot()
            s = b".\r\n"
        super().send(s)


class _SMTP(_HookedFinalDot, smtplib.SMTP):
    pass


class _SMTPSSL(_HookedFinalDot, smtplib.SMTP_SSL):
    pass


Deliver = Callable[[EmailMessage, str, Callable[[], None]], None]


@dataclass
class SMTPBackend:
    """A real SMTP client: STARTTLS or implicit TLS, optional login; one connection per batch."""

    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    def _connect(self) -> smtplib.SMTP:
        client = (_SMTPSSL if self.use_ssl else _SMTP)(self.host, self.port, timeout=self.timeout)
        if self.use_tls and not self.use_ssl:
            client.starttls()
        if self.username:
            client.login(self.username, self.password)
        return client

    def send(self, message: EmailMessage, key: str) -> None:
        with self.session() as deliver:
            deliver(message, key, lambda: None)

    @contextlib.contextmanager
    def session(self) -> Iterator[Deliver]:
        """deliver(message, key, before_final_dot) over one connection, reopened after errors."""
        client: smtplib.SMTP | None = None

        def deliver(message: EmailMessage, key: str, before_final_dot: Callable[[], None]) -> None:
            nonlocal client
            if client is None:
                client = self._connect()
            client.before_final_dot = before_final_dot
            try:
                client.send_message(message)
            except BaseException:
                _close(client)  # its state is unknown (maybe mid-DATA): start afresh
                client = None
                raise

        try:
            yield deliver
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    _close(client)


def _close(client: smtplib.SMTP) -> None:
    try:
        client.close()
    except OSError:
        pass


@contextlib.contextmanager
def deliveries(backend: Backend) -> Iterator[Deliver]:
    """The backend's deliver(message, key, before_final_dot); SMTP keeps one connection open."""
    session = getattr(backend, "session", None)
    if session is not None:
        with session() as deliver:
            yield deliver
        return

    def deliver(message: EmailMessage, key: str, before_final_dot: Callable[[], None]) -> None:
        before_final_dot()  # file and console backends have no "maybe arrived" moment
        backend.send(message, key)

    yield deliver


def get_backend(app: Flask) -> Backend:
    """The backend MAIL_BACKEND names (file, smtp or console)."""
    config = app.config
    name = config.get("MAIL_BACKEND", "file")
    if name == "smtp":
        return SMTPBackend(host=config["MAIL_HOST"], port=int(config["MAIL_PORT"]),
                           use_tls=bool(config["MAIL_USE_TLS"]),
                           use_ssl=bool(config["MAIL_USE_SSL"]),
                           username=config["MAIL_USERNAME"], password=config["MAIL_PASSWORD"],
                           timeout=float(config["MAIL_TIMEOUT"]))
    if name == "console":
        return ConsoleBackend()
    if name == "file":
        return FileBackend(mail_dir(app))
    raise ValueError(f"MAIL_BACKEND must be file, smtp or console, not {name!r}")


def mail_dir(app: Flask) -> Path:
    return Path(app.config.get("MAIL_FILE_DIR") or Path(app.instance_path) / "mail")


# --- the sender -------------------------------------------------------------------------------

@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    due: int = 0  # rows that were due when this run looked (a full batch means: run again)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed for good"


def _after_send_hooks(app: Flask) -> list[Callable[[OutboxEmail], None]]:
    return app.extensions.setdefault("sitedir_mail_after_send", [])


def after_send(app: Flask, hook: Callable[[OutboxEmail], None]) -> None:
    """Call hook(row) in the transaction that marks a row sent (e.g. to erase related data)."""
    _after_send_hooks(app).append(hook)


def sender_name() -> str:
    """This sender in claims: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str) -> bool:
    """False only when `owner` was a process on this host that has gone."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _dead_senders() -> list[str]:
    """Senders on this host that hold claims but whose process has gone (SIGKILL, OOM...)."""
    owners = db.session.scalars(select(OutboxEmail.claimed_by).distinct().where(
        OutboxEmail.status.in_(CLAIMED),
        OutboxEmail.claimed_by.like(f"{socket.gethostname()}:%")))
    return [owner for owner in owners if owner and not _alive(owner)]


def _claimable(now: dt.datetime, stale_before: dt.datetime, dead: list[str]):
    """Due rows, and claimed rows whose lease ran out or whose sender is dead."""
    taken_back = OutboxEmail.claimed_at < stale_before
    if dead:
        taken_back = or_(taken_back, OutboxEmail.claimed_by.in_(dead))
    return or_(and_(OutboxEmail.status == PENDING, OutboxEmail.next_attempt_at <= now),
               and_(OutboxEmail.status.in_(CLAIMED), taken_back))


def _claim_rows(row_ids: list[int], now: dt.datetime, stale_before: dt.datetime,
                dead: list[str] | None = None) -> list[int]:
    """Take these rows for this sender if they are still claimable; returns those taken."""
    result = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(row_ids), _claimable(now, stale_before, dead or []))
        .values(status=SENDING, claimed_at=now, claimed_by=sender_name(),
                attempts=OutboxEmail.attempts + 1)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False))
    claimed = sorted(result.scalars())
    db.session.commit()
    return claimed


def _claim(row_id: int, now: dt.datetime, stale_before: dt.datetime) -> bool:
    """Take one due row for this sender; False if another sender got there first."""
    return bool(_claim_rows([row_id], now, stale_before))


def _committing(row_id: int) -> None:
    """Record that the server may have the email now, if this sender still holds it."""
    result = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row_id, OutboxEmail.status == SENDING,
               OutboxEmail.claimed_by == sender_name())
        .values(status=COMMITTING, claimed_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        raise ClaimLost(row_id)


def _describe_error(error: Exception) -> str:
    """The error's type and SMTP code only: messages can quote the recipient's address."""
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__}{f' {code}' if code else ''}"


def _is_permanent(error: Exception) -> bool:
    """A 5xx refusal, an address the server rejects or a message that cannot be built will
    not improve with retrying."""
    if isinstance(error, UnsendableEmail):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600 \
        and not isinstance(error, smtplib.SMTPAuthenticationError)


def _finish(row: OutboxEmail, error: Exception | None, app: Flask, report: SendReport) -> None:
    now = utcnow()
    if error is None:
        row.status, row.sent_at, row.last_error = SENT, now, ""
        row.erase_personal_data()
        for hook in _after_send_hooks(app):
            hook(row)
        report.sent += 1
        log.info("Sent email %s (%s)", row.id, row.kind)
        return
    row.last_error = _describe_error(error)
    if _is_permanent(error) or row.attempts >= int(app.config["MAIL_MAX_ATTEMPTS"]):
        row.status = FAILED
        row.erase_personal_data()
        report.failed += 1
        log.warning("Gave up on email %s after %s attempts: %s", row.id, row.attempts,
                    row.last_error)
        return
    wait = BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS)) - 1]
    row.status, row.next_attempt_at = PENDING, now + dt.timedelta(seconds=wait)
    report.retrying += 1
    log.warning("Email %s not sent (%s); retrying in %ss", row.id, row.last_error, wait)


def send_pending(limit: int = 50, backend: Backend | None = None) -> SendReport:
    """Send the due emails (up to limit), each claimed so no other sender sends it too."""
    app = current_app._get_current_object()
    backend = backend or get_backend(app)
    report = SendReport()
    now = utcnow()
    stale_before = now - dt.timedelta(seconds=int(app.config["MAIL_CLAIM_TIMEOUT"]))
    dead = _dead_senders()
    due = db.session.execute(
        select(OutboxEmail.id, OutboxEmail.status)
        .where(_claimable(now, stale_before, dead)).order_by(OutboxEmail.id).limit(limit)).all()
    db.session.rollback()  # end the read so the claims below start clean transactions
    report.due = len(due)
    unconfirmed = [row_id for row_id, status in due if status == COMMITTING]
    if unconfirmed:
        log.warning("Sending %s emails again whose delivery was not confirmed before their "
                    "sender stopped (same Message-ID)", len(unconfirmed))
    ids = [row_id for row_id, _ in due]
    with deliveries(backend) as deliver:
        for start in range(0, len(ids), CLAIM_BATCH):
            for row_id in _claim_rows(ids[start:start + CLAIM_BATCH], utcnow(), stale_before,
                                      dead):
                _send_one(row_id, deliver, app, report)
    return report


def _send_one(row_id: int, deliver: Deliver, app: Flask, report: SendReport) -> None:
    row = db.session.get(OutboxEmail, row_id)
    if row is None or row.to_address is None:  # purged meanwhile: nothing to send
        return
    message, error = _build(row, app)
    if message is not None:
        try:
            deliver(message, row.idempotency_key, lambda: _committing(row_id))
        except ClaimLost:
            log.warning("Email %s was taken over by another sender; not sending it here", row_id)
            db.session.rollback()
            return
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            error = exc
        except Exception as exc:  # anything else must still end in retry or failure, not limbo
            log.exception("Unexpected error sending email %s", row_id)
            error = exc
    _finish(row, error, app, report)
    db.session.commit()


def _build(row: OutboxEmail, app: Flask) -> tuple[EmailMessage | None, Exception | None]:
    """The message of a claimed row, or the permanent error that stops it for good."""
    if row.attempts > int(app.config["MAIL_MAX_ATTEMPTS"]):
        # Claimed again after senders died mid-send: stop before it is tried for ever.
        return None, UnsendableEmail(f"no sender finished it in {row.attempts - 1} attempts")
    try:
        return build_message(row, app), None
    except UnsendableEmail as error:
        return None, error
    except (ValueError, TypeError, LookupError) as error:  # e.g. a header the library refuses
        return None, UnsendableEmail(f"the message cannot be built ({type(error).__name__})")


def send_due(batch: int = 50) -> SendReport:
    """Send batches until nothing is due: a backlog is not held to one batch per poll."""
    total = SendReport()
    while True:
        report = send_pending(limit=batch)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        total.due += report.due
        if report.due < batch:
            return total


# --- one-process mode and the worker ------------------------------------------------------------

def _wake_event(app: Flask) -> threading.Event:
    return app.extensions.setdefault("sitedir_mail_wake", threading.Event())


def wake(app: Flask | None = None) -> None:
    """Tell a waiting sender there is something new."""
    _wake_event(app or current_app._get_current_object()).set()


# One after-commit hook wakes the sender whenever a transaction that added an email commits, so
# no caller has to remember to (and none can wake it before the row is visible).
@event.listens_for(Session, "after_flush")
def _note_queued_email(session: Session, flush_context: object) -> None:
    if any(isinstance(row, OutboxEmail) for row in session.new):
        session.info["sitedir_mail_queued"] = True


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop("sitedir_mail_queued", False) and has_app_context():
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_queued_email(session: Session) -> None:
    session.info.pop("sitedir_mail_queued", None)


def run_sender(app: Flask, stop: threading.Event, interval: float,
               housekeeping: Callable[[], object] | None = None,
               housekeeping_every: float = 3600.0) -> None:
    """Loop: send what is due, wait for a wake-up or the interval; run housekeeping hourly."""
    wake_event = _wake_event(app)
    last_housekeeping = -housekeeping_every
    while not stop.is_set():
        with app.app_context():
            try:
                report = send_due()
                if report.sent or report.failed or report.retrying:
                    log.info("Mail: %s", report)
                if housekeeping and time.monotonic() - last_housekeeping > housekeeping_every:
                    housekeeping()
                    last_housekeeping = time.monotonic()
            except Exception:  # a broken database must not kill the thread for good
                log.exception("Mail sender loop failed; trying again shortly")
                db.session.rollback()
            finally:
                db.session.remove()
        wake_event.wait(interval)
        wake_event.clear()


def start_background_sender(app: Flask) -> threading.Thread | None:
    """Start the sender thread for the one-process server, unless MAIL_SEND_IN_BACKGROUND is off."""
    if not app.config.get("MAIL_SEND_IN_BACKGROUND", True):
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sender, name="mail-sender", daemon=True,
        args=(app, stop, float(app.config["MAIL_POLL_SECONDS"]), privacy.purge))
    app.extensions["sitedir_mail_stop"] = stop
    thread.start()
    return thread


@click.group("mail", cls=AppGroup, help="Send the emails waiting in the outbox.")
def mail_cli() -> None:
    pass


@mail_cli.command("send-pending")
@click.option("--limit", default=500, show_default=True, help="Most emails to send this run.")
def send_pending_command(limit: int) -> None:
    """Send every email that is due, once, and exit."""
    report = send_pending(limit=limit)
    click.echo(f"Mail: {report}")


@mail_cli.command("worker")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between checks.")
def worker_command(interval: float) -> None:
    """Keep sending due emails until stopped (run one per site, beside the web server)."""
    app = current_app._get_current_object()
    click.echo(f"Mail worker: backend {app.config['MAIL_BACKEND']}, every {interval}s")
    stop = threading.Event()
    try:
        run_sender(app, stop, interval, housekeeping=privacy.purge)
    except KeyboardInterrupt:
        stop.set()


def erase_expired(now: dt.datetime) -> dict[str, int]:
    """Retention: unsent emails past PRIVACY_RETENTION_DAYS lose address and body (marked
    expired), and any finished row that still holds either is erased too."""
    cutoff = privacy.days_ago(now, "PRIVACY_RETENTION_DAYS")
    expired = erased = 0
    for row in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.created_at < cutoff, OutboxEmail.status.in_((PENDING, SENDING)))):
        row.status, row.last_error = EXPIRED, "not sent within the retention period"
        row.erase_personal_data()
        expired += 1
    for row in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.status.not_in((PENDING, SENDING)),
            or_(OutboxEmail.to_address.is_not(None), OutboxEmail.text_body.is_not(None),
                OutboxEmail.html_body.is_not(None)))):
        row.erase_personal_data()
        erased += 1
    return {"unsent emails expired": expired, "emails erased": erased}


def erase_mail_files(now: dt.datetime) -> dict[str, int]:
    """Retention: .eml files of the file backend (and leftovers of interrupted writes) older
    than PRIVACY_RETENTION_DAYS are deleted; they hold addresses and sign-in links."""
    folder = mail_dir(current_app._get_current_object())
    if not folder.is_dir():
        return {"mail files deleted": 0}
    cutoff = privacy.days_ago(now, "PRIVACY_RETENTION_DAYS").replace(tzinfo=dt.UTC).timestamp()
    deleted = 0
    for path in folder.iterdir():
        if path.suffix in (".eml", ".tmp") and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return {"mail files deleted": deleted}


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
    privacy.register_eraser(app, erase_expired)
    privacy.register_eraser(app, erase_mail_files)
