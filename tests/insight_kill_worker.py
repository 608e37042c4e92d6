"""A worker for the SIGKILL test: counts views and makes recommendations until it is killed.

    python -m tests.insight_kill_worker DATABASE_URL CONTENT_DIR INDEX_DIR

After each flush commits it prints "flushed"; after each recommendation's response it prints
"recommended TOKEN". Whatever it printed was acknowledged and must survive the kill.
"""
from __future__ import annotations

import sys

from sitedir import create_app
from tests.connect_support import RECOMMENDATION, submit

SLUGS = ("harehills-knit-and-natter", "otley-health-walk")


def main(database_url: str, content_dir: str, index_dir: str) -> None:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
        "CONTENT_DIR": content_dir, "SEARCH_INDEX_DIR": index_dir, "WTF_CSRF_ENABLED": False,
        "INSIGHT_FLUSH_SECONDS": 0, "CONNECT_MIN_FILL_SECONDS": 0, "MAIL_BACKEND": "file",
        "CONNECT_RATE_LIMIT_IP": "100000 per hour", "CONNECT_RATE_LIMIT_SESSION": "100000 per hour",
        "INDEXER_THREAD": False, "MAIL_SEND_IN_BACKGROUND": False})
    recorder = app.extensions["insight"]
    client = app.test_client()
    while True:
        with app.app_context():
            for _ in range(25):  # a batch: 25 views of each listing, all or nothing
                for slug in SLUGS:
                    recorder.count_event("slug", slug, "view")
            recorder.flush()
        print("flushed", flush=True)
        response = submit(client, f"/activities/{SLUGS[0]}/recommend", RECOMMENDATION)
        if response.status_code == 302:
            print("recommended", response.location.rstrip("/").rsplit("/", 1)[-1], flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
