"""Report reasons cover real problems; a safeguarding concern goes at once to the named person
(SAFEGUARDING_CONTACT) and never into the moderators' queue."""
from __future__ import annotations

from sqlalchemy import select

from sitedir.connect.models import PROBLEM_REASONS
from sitedir.extensions import db
from tests.connect_support import FAST, submit
from tests.manage_helpers import emails_to, manage_app, sign_in, sign_in_privileged

KNIT = "harehills-knit-and-natter"


def test_reasons_cover_place_cost_access_and_safeguarding() -> None:
    assert {"wrong_place", "wrong_cost", "wrong_access", "safeguarding"} <= set(PROBLEM_REASONS)


def test_safeguarding_goes_to_the_named_person_and_not_the_queue(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = app.test_client()
    form = client.get(f"/activities/{KNIT}/report").text
    assert "call 999" in form and "The access information is wrong" in form
    missing = submit(client, f"/activities/{KNIT}/report", {"reason": "safeguarding"})
    assert missing.status_code == 400 and "safeguarding lead" in missing.text
    response = submit(client, f"/activities/{KNIT}/report",
                      {"reason": "safeguarding", "details": "A helper shouted at a child"})
    assert response.status_code == 302
    sent = emails_to(app, "safeguarding@example.org")
    assert len(sent) == 1 and "A helper shouted at a child" in sent[0].text_body
    assert emails_to(app, "mod@example.org") == []  # moderators are not told the details
    submit(client, f"/activities/{KNIT}/report", {"reason": "wrong_cost", "details": "£2 now"})
    assert len(emails_to(app, "mod@example.org")) == 1
    queue = sign_in_privileged(app.test_client(), app, "mod@example.org").get("/manage/queue").text
    assert "£2 now" in queue and "A helper shouted" not in queue
    with app.app_context():
        from sitedir.connect.models import ProblemReport

        reasons = db.session.scalars(select(ProblemReport.reason)).all()
    assert sorted(reasons) == ["safeguarding", "wrong_cost"]


def test_start_a_listing_from_a_suggestion(make_app) -> None:
    app = manage_app(make_app, **FAST)
    submit(app.test_client(), "/suggest", {"group_name": "Chapel Allerton Choir",
                                           "description": "A friendly community choir.",
                                           "when": "Wednesdays 7pm", "where": "The library"})
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    queue = moderator.get("/manage/queue").text
    link = re_link(queue)
    page = moderator.get(link).text
    assert 'value="Chapel Allerton Choir"' in page and "Wednesdays 7pm" in page
    assert "Where (as suggested): The library" in page
    editor = sign_in(app.test_client(), app, "editor@example.org")
    assert "Chapel Allerton" not in editor.get(link).text  # only moderators get the pre-fill


def re_link(queue: str) -> str:
    import re

    return re.search(r'href="(/manage/register\?suggestion=\d+)"', queue).group(1)
