"""WSGI entry point for gunicorn/waitress: `gunicorn wsgi:app`."""
from sitedir import create_app

app = create_app()
