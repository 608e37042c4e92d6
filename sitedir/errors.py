"""One error handler for every HTTP error: a friendly page, or JSON for JSON endpoints."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("There is a problem with your request", "Check the address or the form and try again."),
    403: ("You do not have access to this page", "Sign in with an account that has access."),
    404: ("Page not found", "If you typed the web address, check it is correct. "
                            "If you pasted it, check you copied the entire address."),
    405: ("That action is not allowed here", "Go back and try again."),
    413: ("What you sent is too large", "Go back, shorten it and try again."),
    429: ("Too many attempts", "Wait a minute, then try again."),
}
SERVER_ERROR = ("Sorry, there is a problem with the service",
                "Try again later. What you entered may not have been saved.")


def wants_json() -> bool:
    """JSON endpoints end in .json or live under an API prefix."""
    path = request.path
    return path.endswith(".json") or path.startswith(("/api/", "/openreferral/"))


def handle_http_error(error: HTTPException):
    code = error.code or 500
    title, advice = MESSAGES.get(code, SERVER_ERROR)
    if wants_json():
        return jsonify({"error": {"status": code, "message": error.description or title}}), code
    return render_template("error.html", code=code, title=title, advice=advice,
                           detail=getattr(error, "public_detail", None)), code


def handle_unexpected(error: Exception):
    """Anything not an HTTP error is a bug: log it, show the friendly 500 page."""
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
