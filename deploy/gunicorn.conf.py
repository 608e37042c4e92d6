"""gunicorn settings for sitedir: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (SITEDIR_BIND, SITEDIR_WORKERS, ...), so the
systemd unit and the tests use this one file. The web processes only read the search index and
never send email: the index worker and the mail worker are separate services.
"""
import multiprocessing
import os

bind = os.environ.get("SITEDIR_BIND", "127.0.0.1:8000")
# Threads serve a slow client without holding a whole process; two processes per core is
# plenty for a directory (each keeps its own searcher, ~50 ms to open at 20k listings).
workers = int(os.environ.get("SITEDIR_WORKERS", min(2 * multiprocessing.cpu_count(), 8)))
threads = int(os.environ.get("SITEDIR_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("SITEDIR_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Restart workers now and then so a slow leak cannot grow for ever; jitter avoids all at once.
max_requests = 2000
max_requests_jitter = 200
# Logs go to stdout/stderr (journald under systemd). The access log leaves out the query
# string: a search near a postcode is personal data.
accesslog = "-" if os.environ.get("SITEDIR_ACCESS_LOG", "1") != "0" else None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# Behind nginx or a load balancer on the same host: trust its X-Forwarded-* headers only.
forwarded_allow_ips = os.environ.get("SITEDIR_FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """Say at startup when rate limits would be counted per process (see README)."""
    storage = os.environ.get("FLASK_RATELIMIT_STORAGE_URI", "")
    if server.cfg.workers > 1 and storage.startswith("memory://"):
        server.log.warning(
            "FLASK_RATELIMIT_STORAGE_URI is memory:// with %s workers: each keeps its own "
            "counts, so every rate limit is multiplied by %s. Use redis://.",
            server.cfg.workers, server.cfg.workers)
