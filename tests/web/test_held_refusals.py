"""A threaded worker answers a refused public POST after a pause, so that a
client resending as soon as it is answered sends once a second; sync workers,
and threads past REFUSAL_HOLDS, answer at once. The pause is recorded here,
never slept: these tests time nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from helpers_admin import soup
from helpers_comments import send_comment
from helpers_mentions import POST_SLUG

from blog.web.limits import BUSY_MESSAGE

COMMENT_PATH = f"/{POST_SLUG}/comment"


@pytest.fixture
def app_config(slots_dir) -> dict:
    return {
        "WRITE_SLOTS": 1,
        "WRITE_SLOTS_DIR": slots_dir,
        "POST_LIMIT_PER_ADDRESS": "2 per hour",
        "REFUSAL_HOLD_SECONDS": 1.5,
        "REFUSAL_HOLDS": 1,
    }


@pytest.fixture
def pauses(app) -> list[float]:
    """The pauses the guard takes, recorded instead of slept."""
    taken: list[float] = []
    app.extensions["post_guard"].held.pause = taken.append
    return taken


class ThreadedClient(FlaskClient):
    """A client whose requests come through a threaded server (gthread)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("environ_overrides", {})["wsgi.multithread"] = True
        return super().open(*args, **kwargs)


def threaded_client(app) -> FlaskClient:
    return ThreadedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def threaded(app) -> FlaskClient:
    return threaded_client(app)


def sign_in(client, password: str = "sbagliata"):
    return client.post("/admin/login", data={"username": "x", "password": password})


def test_a_refusal_over_the_budget_is_answered_after_the_pause(threaded, pauses):
    for _ in range(2):
        assert sign_in(threaded).status_code != 429
    assert pauses == []
    response = sign_in(threaded)
    assert response.status_code == 429
    assert "riprova più tardi" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) >= 1
    assert pauses == [1.5]


def test_a_sync_worker_answers_its_refusals_at_once(client, pauses):
    for _ in range(3):
        sign_in(client)
    assert sign_in(client).status_code == 429
    assert pauses == []


def test_a_post_finding_every_write_slot_taken_is_held_too(app, threaded, pauses, busy):
    response = send_comment(threaded, app, "Il mio testo")
    assert response.status_code == 503
    assert BUSY_MESSAGE in soup(response).get_text()
    assert soup(response).select_one("#comment").get_text().strip() == "Il mio testo"
    assert pauses == [1.5]


def test_a_refusal_by_the_view_is_held_after_its_write_slot_is_given_back(
    app, threaded
):
    slots = app.extensions["post_guard"].slots
    free_during_pause: list[bool] = []

    def pause(seconds: float) -> None:
        slot = slots.try_acquire()
        free_during_pause.append(slot is not None)
        if slot is not None:
            slots.release(slot)

    app.extensions["post_guard"].held.pause = pause
    assert send_comment(threaded, app, "primo").status_code == 302
    assert free_during_pause == []
    # The sender's flood rule, inside the view: within the budget, so the POST
    # took the only write slot, and gave it back before its pause.
    response = send_comment(threaded, app, "secondo")
    assert response.status_code == 429
    assert free_during_pause == [True]


def test_no_more_threads_than_refusal_holds_pause_at_once(app, threaded):
    other = threaded_client(app)
    answers: list[int] = []
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            # While this thread holds the only pause, another refusal comes in.
            answers.append(sign_in(other).status_code)

    for _ in range(2):
        sign_in(threaded)
    app.extensions["post_guard"].held.pause = pause
    assert sign_in(threaded).status_code == 429
    assert answers == [429]
    assert pauses == [1.5]  # the second refusal was answered without one
