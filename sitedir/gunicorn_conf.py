"""gunicorn settings for sitedir: `gunicorn -c python:sitedir.gunicorn_conf wsgi:app`.

The access log names the path without its query string (searches carry postcodes), no
referrer, and tokens in paths are replaced by sitedir.logs (installed when the app loads).
Override anything here on the command line, e.g. `--workers 4 --bind 127.0.0.1:8000`.
"""
accesslog = "-"
errorlog = "-"
# remote address, time, method, path (no query), status, bytes, duration in ms
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
