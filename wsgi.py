"""Production WSGI entry point: `gunicorn wsgi:app`. Needs PUBLIC_BASE_URL and the operator's
details (OPERATOR_NAME etc.), and refuses pages with an unfilled placeholder."""
from sitedir import create_app
from sitedir.links import require_public_base_url
from sitedir.site_details import require_site_details

app = create_app()
require_public_base_url(app)  # links are never built from the request's Host header
require_site_details(app)  # no "[OPERATOR: ...]" or unset operator detail reaches a page
