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

from blog.web.heldrefusals import fit_refusal_holds
from blog.web.postguard import BUSY_MESSAGE, WRITES

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
    slots = app.extensions["post_guard"].slots[WRITES]
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


def refusals_paused_at_once(app) -> int:
    """How many refused POSTs pause at once: each pause lets another arrive."""
    for _ in range(2):  # the address's budget
        sign_in(threaded_client(app))
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        assert sign_in(threaded_client(app)).status_code == 429

    app.extensions["post_guard"].held.pause = pause
    assert sign_in(threaded_client(app)).status_code == 429
    return len(pauses)


@pytest.mark.parametrize(
    ("threads", "paused"),
    [(32, 24), (4, 3), (2, 1), (1, 0), (None, 2)],
)
def test_a_worker_pauses_in_three_threads_of_four_never_all(
    app, make_app, database_url, threads, paused
):
    # The worker's thread count as gunicorn.conf.py tells it; None: untold.
    unfitted = make_app(
        DATABASE_URL=database_url,
        POST_LIMIT_PER_ADDRESS="2 per hour",
        REFUSAL_HOLDS=None,
        WRITE_SLOTS=0,
    )
    if threads is not None:
        fit_refusal_holds(unfitted, threads)
    assert refusals_paused_at_once(unfitted) == paused


def test_configured_refusal_holds_win_over_the_thread_count(app):
    fit_refusal_holds(app, 32)
    assert refusals_paused_at_once(app) == 1


def test_configured_refusal_holds_never_take_every_thread(make_app, app, database_url):
    generous = make_app(
        DATABASE_URL=database_url,
        POST_LIMIT_PER_ADDRESS="2 per hour",
        REFUSAL_HOLDS=8,
        WRITE_SLOTS=0,
    )
    fit_refusal_holds(generous, 4)
    assert refusals_paused_at_once(generous) == 3


def test_an_app_that_is_not_the_blog_is_left_alone():
    fit_refusal_holds(object(), 32)  # the benchmarks' static page under gunicorn
