"""`python -m sitedir.serve`: the one-process server that `make run` starts (waitress)."""
from __future__ import annotations

import argparse
import logging

from waitress import serve

from . import create_app
from .links import use_serving_address


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    # With no PUBLIC_BASE_URL, links in emails, QR codes and feeds use this server's address.
    use_serving_address(app, args.host, args.port)
    if app.config["INDEXER_THREAD"]:
        # The one-process default: this thread is the only index writer (see sitedir/indexing.py).
        from .indexing import start_worker_thread

        start_worker_thread(app)
    # Emails from the outbox (and the hourly privacy purge), unless MAIL_SEND_IN_BACKGROUND is off.
    from .mail import start_background_sender

    start_background_sender(app)
    print(f"Serving {app.config['SITE_NAME']} on http://{args.host}:{args.port} (Ctrl+C to stop)")
    serve(app, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
