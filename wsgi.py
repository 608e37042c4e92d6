"""Production WSGI entry point: `gunicorn wsgi:app`. Needs PUBLIC_BASE_URL."""
from sitedir import create_app
from sitedir.links import require_public_base_url

app = create_app()
require_public_base_url(app)  # links are never built from the request's Host header
