"""gunicorn settings for sitedir: `gunicorn -c python:sitedir.gunicorn_conf wsgi:app`.

The access log names the path without its query string (searches carry postcodes), no
referrer, and tokens in paths are replaced by sitedir.logs (installed when the app loads).
Override anything here on the command line, e.g. `--workers 4 --bind 127.0.0.1:8000`.
"""
accesslog = "-"
errorlog = "-"
# time, method, path (no query string), status, bytes, duration in ms: no IP address, as the
# privacy notice promises (rate limits count addresses in memory, never in logs)
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
