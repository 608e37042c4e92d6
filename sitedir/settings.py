"""Every configuration setting, declared once with its default and help text.

The README's settings table is checked against this list by a test, so a setting that is not
documented fails the suite.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: list[Setting] = [
    Setting("SECRET_KEY", None,
            "Signs sessions and links. When unset, a random key is generated once and kept in "
            "instance/secret_key. Set the same value on every web node."),
    Setting("DATABASE_URL", "",
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user:pw@host/sitedir. "
            "Empty means SQLite at instance/sitedir.sqlite3 (WAL, synchronous=FULL)."),
    Setting("CONTENT_DIR", "",
            "Folder holding taxonomy.yaml, pages/ and directory/. Empty means the repository's "
            "content/ folder."),
    Setting("SEARCH_INDEX_DIR", "",
            "Folder of the Whoosh search index. Empty means the repository's search_index/ "
            "folder (or instance/search_index when installed as a package)."),
    Setting("SITE_NAME", "Find community activities",
            "The service name shown in the header, page titles and emails."),
    Setting("SITE_AREA", "Leeds",
            "The area the directory covers, used in page text (\"groups in Leeds\")."),
    Setting("PUBLIC_BASE_URL", "",
            "The public address of the site (with any path prefix), for links in emails, QR "
            "codes, print sheets, calendars and the sitemap; never taken from the request's "
            "Host header. Empty: `make run` (python -m sitedir.serve) uses the address it "
            "serves on, e.g. http://127.0.0.1:5101 for PORT=5101; wsgi.py (production) "
            "refuses to start."),
    # Who runs the site: filled into the about, privacy, accessibility and guide pages as
    # {{ operator_name }} etc. (sitedir/site_details.py). wsgi.py will not start while one is empty.
    Setting("OPERATOR_NAME", "",
            "Who runs the site: your organisation's name, address and any registration number "
            "(charity or company), as the about, privacy and accessibility pages show it."),
    Setting("OPERATOR_CONTACT", "",
            "How people contact the people who run the site (an email address, and a phone "
            "number with the hours it is answered, if you have one)."),
    Setting("DATA_CONTROLLER", "",
            "The data controller for the privacy notice and how to reach them about personal "
            "data (their email and postal address; a Data Protection Officer if you have one)."),
    Setting("ACCESSIBILITY_CONTACT", "",
            "Where people ask for information in another format or report an accessibility "
            "problem, and how soon you reply (e.g. 'access@example.org or 0113 496 0000, "
            "Monday to Friday 9am to 5pm; we reply within 5 working days')."),
    Setting("ACCESSIBILITY_ENFORCEMENT",
            "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the "
            "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility "
            "Regulations 2018 (the \"accessibility regulations\"). If you are not happy with "
            "how we respond to your complaint, contact the [Equality Advisory and Support "
            "Service (EASS)](https://www.equalityadvisoryservice.com/). In Northern Ireland, "
            "contact the [Equality Commission for Northern Ireland](https://www.equalityni.org/).",
            "The enforcement paragraph of the accessibility statement (Markdown). The default "
            "is the wording for UK public sector bodies; an organisation the regulations do not "
            "cover should say how it handles complaints instead."),
    Setting("OPERATOR_SUPPLIERS", "",
            "The suppliers that process personal data for you, as the privacy notice lists "
            "them: your hosting provider and the country the data is stored in, and the email "
            "service that sends sign-in and recommendation emails."),
    Setting("SERVER_LOG_RETENTION", "",
            "What your web server, proxy or hosting provider logs and for how long, for the "
            "privacy notice (e.g. 'for 30 days; they include IP addresses'). sitedir itself "
            "does not log IP addresses, search words or query strings."),
    Setting("SAFEGUARDING_CONTACT", "",
            "Email address of the named person who receives safeguarding concerns reported on a "
            "listing. They are emailed at once, and the report is kept out of the moderation "
            "queue."),
    Setting("TIMEZONE", "Europe/London",
            "Time zone of schedules; next-session dates are computed in it."),
    Setting("STALE_AFTER_DAYS", 365,
            "A listing not reviewed for this many days shows a \"may be out of date\" notice."),
    Setting("GEOCODER", "",
            "Online geocoder for places the offline gazetteer doesn't know: '' (offline only), "
            "'nominatim' or 'photon'. Needs GEOCODER_URL. Results are cached for a day; on any "
            "error the site uses the gazetteer and skips the geocoder for 60 seconds."),
    Setting("GEOCODER_URL", "",
            "Base URL of your Nominatim or Photon service, e.g. https://nominatim.example.org. "
            "The public nominatim.openstreetmap.org allows at most 1 request per second and "
            "needs an identifying GEOCODER_USER_AGENT."),
    Setting("GEOCODER_TIMEOUT", 3,
            "Seconds to wait for the geocoder before falling back to the gazetteer."),
    Setting("GEOCODER_USER_AGENT", "sitedir",
            "User-Agent sent to the geocoder; identify your site, e.g. "
            "'sitedir-leeds (admin@example.org)'."),
    Setting("GEO_HOME", "",
            "The directory's home area as 'lat,lon', a postcode district or a town name; empty "
            "means SITE_AREA. When a place name is ambiguous, the only namesake within 30 miles "
            "of here is chosen."),
    Setting("PAGE_SIZE", 20, "Activities per page on category, organisation and search pages."),
    Setting("SEARCH_MAX_QUERY_LENGTH", 200,
            "Longest search text accepted, in characters; longer is a 400 error. Only the first "
            "12 words are used."),
    Setting("INDEXER_POLL_SECONDS", 1.0,
            "How often the indexer (`flask index worker`, or the thread in `make run`) looks "
            "for changed listings to put in the search index."),
    Setting("INDEXER_THREAD", True,
            "Run the indexer as a background thread of `python -m sitedir.serve`. Turn off when "
            "a separate `flask index worker` process runs (one indexer per index folder)."),
    Setting("INDEX_NODE_NAME", "",
            "This node's name in the index registry (`flask index status`). Empty means the "
            "host name and the index folder. Give each node its own."),
    Setting("INDEX_MAX_LAG_SECONDS", 60,
            "/healthz answers 503 (not ready) when this node's index is further behind the "
            "database than this: the age of the oldest change it has not applied."),
    Setting("INDEX_LOG_RETENTION_DAYS", 7,
            "Change-log rows older than this are pruned once every node has applied them. A "
            "node that has not been seen for this long is forgotten and rebuilds on return."),
    Setting("PAGE_CACHE_SECONDS", 30,
            "Keep a rendered search page this long for visitors with nothing of their own on "
            "it (no shortlist, not signed in), and reuse it until the index changes. 0 turns "
            "it off."),
    Setting("PAGE_CACHE_ENTRIES", 200,
            "Most search pages each web process keeps (about 75 KB each)."),
    Setting("COMPRESS_RESPONSES", True,
            "Compress pages, JSON and static files (zstd, brotli or gzip, as the browser "
            "accepts). Turn off when a reverse proxy in front compresses them instead."),
    Setting("MAP_TILE_URL", "",
            "Leaflet tile URL template for the search map, e.g. "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png (use your own tile server for a "
            "busy site: OpenStreetMap's tile usage policy). Empty (the offline default): the "
            "map draws the markers and the search area on a plain background and says so; no "
            "tile requests. If tiles fail to load, the map falls back to the same. The list of "
            "results is always there."),
    Setting("MAP_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            "contributors",
            "Attribution shown on the map, as HTML. The tile provider's terms say what it "
            "must be."),
    Setting("SIGNIN_TOKEN_MINUTES", 10,
            "How long an emailed sign-in link stays valid, in minutes. Each link works once."),
    Setting("SIGNIN_LIMIT_PER_EMAIL_AND_IP", 5,
            "Sign-in links that can be requested for one email address from one IP address "
            "per hour. There is deliberately no limit per address alone: someone else's "
            "requests must not lock a person out."),
    Setting("SIGNIN_LIMIT_PER_IP", 20,
            "Sign-in links that can be requested from one IP address per hour."),
    Setting("REMINDER_AFTER_DAYS", 180,
            "`flask reminders send` emails an organisation when a listing has not been reviewed "
            "for this many days. Keep it below STALE_AFTER_DAYS, so groups can answer in time."),
    Setting("REMINDER_REPEAT_DAYS", 30,
            "Days to wait before sending another reminder about the same unanswered listing."),
    Setting("NOT_CONFIRMED_AFTER_REMINDERS", 3,
            "After this many unanswered reminders (since the last review), `flask reminders "
            "send` marks a listing \"not confirmed\" instead of reminding again: it sinks in "
            "lists and says so until the group or a moderator reviews it."),
    Setting("REMINDER_LINK_DAYS", 7,
            "How long the one-click answers in a reminder email work, in days. Each works once "
            "and publishes without sign-in, so keep it short; the next reminder brings new ones."),
    Setting("TOTP_REQUIRED", True,
            "Moderators and admins give a code from an authenticator app (TOTP), or a recovery "
            "code, before any moderation or admin page or action. Turn off only for development."),
    Setting("TOTP_VALID_HOURS", 12,
            "How long a given authenticator code keeps a session able to moderate, in hours."),
    Setting("TOTP_RATE_LIMIT", "5 per minute;20 per hour",
            "Most wrong authenticator or recovery codes per account (and per IP address), so a "
            "code cannot be guessed."),
    Setting("ENCRYPTION_KEY", "",
            "Fernet key(s) that encrypt TOTP secrets in the database, comma-separated: the first "
            "encrypts, all decrypt (for rotation). Make one with `python -c \"from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`. Empty "
            "means a key generated once and kept in instance/encryption_key (keep it out of "
            "database backups)."),
    # Recommending (sitedir/connect), email (sitedir/mail.py), privacy, rate limits.
    Setting("MAIL_BACKEND", "file",
            "How emails leave: file (write .eml files to MAIL_FILE_DIR; works offline), smtp "
            "(a real SMTP server, MAIL_HOST etc.) or console (print them; development only)."),
    Setting("MAIL_FILE_DIR", "",
            "Folder for the file mail backend. Empty means instance/mail."),
    Setting("MAIL_HOST", "localhost", "SMTP server host name, for MAIL_BACKEND=smtp."),
    Setting("MAIL_PORT", 587,
            "SMTP server port: 587 with MAIL_USE_TLS (STARTTLS), 465 with MAIL_USE_SSL, 25 plain."),
    Setting("MAIL_USE_TLS", True, "Upgrade the SMTP connection with STARTTLS before logging in."),
    Setting("MAIL_USE_SSL", False, "Connect with implicit TLS (SMTPS, usually port 465)."),
    Setting("MAIL_USERNAME", "", "SMTP login name; empty means do not log in."),
    Setting("MAIL_PASSWORD", "",
            "SMTP password. Keep it in instance/config.py or FLASK_MAIL_PASSWORD."),
    Setting("MAIL_FROM", "",
            "The From address of emails, e.g. \"Find community activities <hello@example.org>\". "
            "Empty means SITE_NAME <no-reply@the host of PUBLIC_BASE_URL>."),
    Setting("MAIL_TIMEOUT", 10, "Seconds to wait for the SMTP server before trying again later."),
    Setting("MAIL_MAX_ATTEMPTS", 8,
            "Tries per email (waits of 30 s, 2, 10, 30 then 60 minutes) before it is given up "
            "and its address erased."),
    Setting("MAIL_CLAIM_TIMEOUT", 300,
            "Seconds after which an email claimed by a sender that died is tried again (with "
            "the same Message-ID, so a server can drop a repeat)."),
    Setting("MAIL_SEND_IN_BACKGROUND", True,
            "`python -m sitedir.serve` (make run) sends emails from a background thread. Turn "
            "off when `flask mail worker` runs as its own process."),
    Setting("MAIL_POLL_SECONDS", 5,
            "How often the mail sender checks the outbox (it is also woken by each new email)."),
    Setting("PRIVACY_RETENTION_DAYS", 7,
            "Days after which `flask privacy purge` erases unsent emails and the names and note "
            "of recommendations (sent emails are erased at once), deletes sign-in requests and "
            "the file mail backend's .eml files, and forgets where reminders were sent."),
    Setting("SECURITY_LOG_RETENTION_DAYS", 90,
            "Days after which the audit log of sign-ins and moderation decisions loses IP "
            "addresses and the addresses typed into sign-in requests (who did what stays)."),
    Setting("MODERATION_RETENTION_DAYS", 180,
            "Days after which suggested activities and problem reports are deleted."),
    Setting("INSIGHT_RETENTION_DAYS", 90,
            "Days after which the raw rows of searches that found fewer than 3 activities are "
            "folded into totals and deleted (by `flask privacy purge`). Words searched on fewer "
            "than 3 different days by then are deleted, not kept."),
    Setting("INSIGHT_FLUSH_SECONDS", 10.0,
            "How often each web process writes its pending anonymous counts (page views, "
            "searches) to the database, in one transaction. 0 turns the background writer off "
            "(tests, scripts)."),
    Setting("RATELIMIT_STORAGE_URI", "memory://",
            "Where rate-limit counts live: memory:// for one process, redis://host:6379 when "
            "several processes or machines serve the site."),
    Setting("CONNECT_RATE_LIMIT_IP", "60 per hour",
            "Most recommend, suggest or report forms sent from one IP address (a library's "
            "computers may share one)."),
    Setting("CONNECT_RATE_LIMIT_SESSION", "20 per hour",
            "Most recommend, suggest or report forms sent from one browser session."),
    Setting("CONNECT_MIN_FILL_SECONDS", 3,
            "Forms sent back faster than this after being shown are treated as automated. "
            "Each form shown can be sent once, from the session it was shown in."),
    Setting("CLAIM_LIMIT_PER_DAY", 5,
            "Most \"Is this your group?\" claims one account can send in 24 hours."),
    Setting("REGISTER_LIMIT_PER_DAY", 3,
            "Most new-organisation registrations one account can send in 24 hours."),
    Setting("CHANGE_LIMIT_PER_HOUR", 30,
            "Most change requests one account can send in an hour (each may email every "
            "moderator)."),
    Setting("EMAIL_CHECK_DELIVERABILITY", False,
            "Also check that an email address's domain accepts mail (a DNS lookup) when one is "
            "typed in. Off by default, so the site works offline."),
    # Security headers and cookies (sitedir/security.py).
    Setting("TRUSTED_PROXY_COUNT", 0,
            "How many reverse proxies in front of the site set X-Forwarded-For and "
            "X-Forwarded-Proto. 0 ignores those headers; 1 for one nginx or load balancer. "
            "Rate limits per IP and HSTS depend on it."),
    Setting("HSTS_SECONDS", 31536000,
            "Strict-Transport-Security max-age sent on HTTPS responses; 0 sends none."),
    Setting("HSTS_INCLUDE_SUBDOMAINS", False,
            "Add includeSubDomains to Strict-Transport-Security: only if every subdomain of "
            "the site's domain serves HTTPS."),
    Setting("SESSION_COOKIE_SECURE", None,
            "Send the session cookie over HTTPS only. Unset means yes when PUBLIC_BASE_URL "
            "starts with https://."),
    Setting("SESSION_COOKIE_SAMESITE", "Lax",
            "SameSite of the session cookie: Lax (default) or Strict."),
    Setting("OPENREFERRAL_MAX_PER_PAGE", 500,
            "Largest per_page the Open Referral UK API (/openreferral/) accepts."),
    Setting("OPENREFERRAL_STATE_PROVINCE", "England",
            "state_province of every address in the Open Referral UK API (HSDS requires one)."),
    Setting("IMPORT_TIMEOUT", 20,
            "Seconds to wait for each request when `flask import oruk` reads a feed by URL."),
    Setting("MODERATOR_EMAILS_ENABLED", True,
            "Email every active moderator and admin when something new waits in the moderation "
            "queue (a change to check, a claim, a registration, a suggestion or a problem "
            "report). The email names the kind of item and links to it; it never includes "
            "what a member of the public wrote."),
]


def defaults() -> dict[str, object]:
    """The default value of every setting, for app.config."""
    return {setting.name: setting.default for setting in SETTINGS}
