"""Readers first: at most WRITE_SLOTS public POSTs run at once in all the
workers; the others are answered 503 at once, with the form, and readers and
the author are never held up by them."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import xmlrpc.client
from urllib.parse import urlencode

import pytest
from helpers_admin import (
    add_author,
    add_comment,
    comment_status,
    csrf_from,
    log_in,
    press,
    soup,
)
from helpers_comments import old_stamp, read_form
from helpers_mentions import POST_SLUG
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from blog.accounts.authors import DEVICE_COOKIE
from blog.extensions import db
from blog.models import Comment
from blog.web.postguard import (
    BUSY_MESSAGE,
    PINGS,
    WRITES,
    default_write_slots,
    usable_cpus,
)
from blog.web.writers import WriteSlots

COMMENT_PATH = f"/{POST_SLUG}/comment"


@pytest.fixture
def app_config(slots_dir) -> dict:
    return {"WRITE_SLOTS": 1, "WRITE_SLOTS_DIR": slots_dir}


class TestSlots:
    def test_a_slot_is_held_until_given_back(self, tmp_path):
        slots = WriteSlots(2, str(tmp_path))
        first, second = slots.try_acquire(), slots.try_acquire()
        assert first is not None and second is not None
        assert slots.try_acquire() is None
        slots.release(first)
        assert slots.try_acquire() is not None

    @pytest.mark.parametrize(("cpus", "slots"), [(1, 1), (2, 1), (4, 3)])
    def test_by_default_one_writer_per_cpu_but_one(
        self, make_app, monkeypatch, slots_dir, cpus, slots
    ):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
        app = make_app(WRITE_SLOTS=None, WRITE_SLOTS_DIR=slots_dir)
        guard = app.extensions["post_guard"]
        # Pingbacks wait on their sources, not on a CPU: one per CPU.
        assert {name: s.count for name, s in guard.slots.items()} == {
            WRITES: slots,
            PINGS: cpus,
        }

    def test_a_number_of_slots_set_bounds_the_pingbacks_too(
        self, make_app, slots_dir, monkeypatch
    ):
        # More CPUs than the setting: pingbacks left at one per CPU would show.
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
        app = make_app(WRITE_SLOTS=3, WRITE_SLOTS_DIR=slots_dir)
        guard = app.extensions["post_guard"]
        assert {name: s.count for name, s in guard.slots.items()} == {
            WRITES: 3,
            PINGS: 3,
        }

    def test_the_cpus_counted_are_those_the_blog_may_run_on(self, monkeypatch):
        # A container or taskset gives the process fewer than the machine has.
        monkeypatch.setattr(os, "cpu_count", lambda: 8)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
        assert usable_cpus() == 2
        assert default_write_slots() == 1

    def test_a_killed_worker_gives_its_slot_back(self, tmp_path):
        slots = WriteSlots(1, str(tmp_path))
        with subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[2]);"
                "from blog.web.writers import WriteSlots;"
                "s = WriteSlots(1, sys.argv[1]); assert s.try_acquire();"
                "print('held', flush=True); sys.stdin.read()",
                str(tmp_path),
                os.getcwd(),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            try:
                assert holder.stdout.readline().strip() == "held"
                assert slots.try_acquire() is None
            finally:
                holder.send_signal(signal.SIGKILL)
                holder.wait()
        assert slots.try_acquire() is not None


def comment_fields(app, client) -> dict:
    _action, fields, post_id = read_form(client)
    return fields | {
        "author": "Lucia",
        "email": "lucia@example.org",
        "comment": "Il mio testo",
        "stamp": old_stamp(app, post_id),
    }


def test_a_comment_while_every_slot_writes_gets_503_with_its_form(
    app, client, count_queries, busy
):
    fields = comment_fields(app, client)
    with count_queries() as counter:
        response = client.post(COMMENT_PATH, data=fields)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert counter.count == 0
    page = soup(response)
    assert BUSY_MESSAGE in page.get_text()
    assert page.select_one("#comment").get_text().strip() == "Il mio testo"
    assert page.select_one("#author")["value"] == "Lucia"


def test_readers_and_the_author_are_not_bounded(app, author_client, busy):
    assert app.test_client().get(f"/{POST_SLUG}/").status_code == 200
    comment_id = add_comment(app, content="Bel post!")
    page = soup(author_client.get("/admin/comments?view=pending"))
    item = page.find(id=f"comment-{comment_id}")
    assert press(author_client, page, "Approva", within=item).status_code == 302
    assert comment_status(app, comment_id) == "approved"


def test_a_free_slot_lets_the_comment_in(app, client):
    response = client.post(COMMENT_PATH, data=comment_fields(app, client))
    assert response.status_code == 302
    # The slot was given back: the next one finds it free.
    fields = comment_fields(app, client) | {"comment": "Un altro", "email": "a@b.it"}
    assert client.post(COMMENT_PATH, data=fields).status_code != 503


def test_a_pingback_takes_no_write_slot(client, busy):
    # It waits for the source page while its sender waits: holding a slot
    # meanwhile would refuse other POSTs for seconds. It is checked as ever.
    body = xmlrpc.client.dumps(("a", "b"), "pingback.ping")
    ping = client.post("/xmlrpc.php", data=body, content_type="text/xml")
    assert ping.status_code == 200  # pingback clients read the fault
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(ping.data)
    assert fault.value.faultString != BUSY_MESSAGE
    assert fault.value.faultCode in (0x10, 0x11, 0x20, 0x21)


def test_webmentions_and_sign_ins_are_bounded_too(client, busy):
    mention = client.post("/webmention", data={"source": "x", "target": "y"})
    assert mention.status_code == 503
    assert BUSY_MESSAGE in mention.get_data(as_text=True)
    sign_in = client.post("/admin/login", data={"username": "x", "password": "y"})
    assert sign_in.status_code == 503


def test_a_browser_the_author_signed_in_with_needs_no_slot_to_sign_in(app, slots_dir):
    # A flood of new commenters keeps the one slot busy: the author's own
    # browser still gets in, a new browser waits for a free slot like anyone.
    add_author(app)
    known = app.test_client()
    assert log_in(known).status_code == 302
    device = known.get_cookie(DEVICE_COOKIE, path="/admin/login").value
    known.post("/admin/logout", data={"csrf_token": csrf_from(known, "/admin/")})
    forged = app.test_client()
    forged.set_cookie(DEVICE_COOKIE, device[:-4] + "AAAA", path="/admin/login")
    other = WriteSlots(1, slots_dir)
    slot = other.try_acquire()
    assert slot is not None
    try:
        assert log_in(known).status_code == 302
        assert log_in(app.test_client()).status_code == 503
        assert log_in(forged).status_code == 503
    finally:
        other.release(slot)


def test_a_sign_in_with_cookies_no_browser_sends_is_no_error(app, slots_dir):
    # gunicorn hands the Cookie header over byte for byte, as Latin-1.
    environ = EnvironBuilder(
        path="/admin/login",
        method="POST",
        data={"username": "x", "password": "y"},
        headers={"Cookie": "author_device=\xff\xfe; session=\xff"},
    ).get_environ()
    statuses = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    assert statuses and not statuses[0].startswith("5")


class SlowBody(io.BytesIO):
    """A request body that notes, at each read, whether a slot was free."""

    def __init__(self, body: bytes, slots_dir: str) -> None:
        super().__init__(body)
        self.other = WriteSlots(1, slots_dir)
        self.slot_free: list[bool] = []

    def read(self, *args) -> bytes:
        slot = self.other.try_acquire()
        self.slot_free.append(slot is not None)
        if slot is not None:
            self.other.release(slot)
        return super().read(*args)


def post_raw(
    app,
    path: str,
    body: io.BytesIO,
    chunked: bool = False,
    client=None,
    **environ_extra,
) -> int:
    name = app.config["SESSION_COOKIE_NAME"]
    session = client.get_cookie(name) if client is not None else None
    environ = EnvironBuilder(
        path=path,
        method="POST",
        data=body.getvalue(),
        content_type="application/x-www-form-urlencoded",
        headers={"Cookie": f"{name}={session.value}"} if session else {},
    ).get_environ()
    environ["wsgi.input"] = body
    if chunked:  # as gunicorn gives a chunked body: no length, terminated
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ.update(environ_extra)
    status = []
    run = app.wsgi_app(environ, lambda s, h, e=None: status.append(s))
    b"".join(run)
    return int(status[0][:3])


def test_a_body_still_coming_holds_no_slot(app, client, slots_dir):
    # Two clients sending their bodies slowly would otherwise take both slots
    # and refuse every public POST of the server, the author's sign-in too.
    body = SlowBody(urlencode(comment_fields(app, client)).encode(), slots_dir)
    assert post_raw(app, COMMENT_PATH, body, client=client) == 302
    assert body.slot_free and all(body.slot_free)


def test_a_chunked_body_over_the_limit_gets_413_not_a_cut_form(app, client, slots_dir):
    fields = comment_fields(app, client) | {"comment": "x" * 300_000}
    body = SlowBody(urlencode(fields).encode(), slots_dir)
    assert post_raw(app, COMMENT_PATH, body, chunked=True) == 413


class InvalidChunkSize(Exception):
    """As gunicorn raises reading a chunked body whose sizes are not numbers."""


def test_a_body_that_cannot_be_read_gets_400(app, slots_dir):
    class Broken(io.BytesIO):
        def readinto(self, *args) -> int:
            return self.read()

        def read(self, *args) -> bytes:
            raise InvalidChunkSize("zz")

    assert post_raw(app, COMMENT_PATH, Broken(b"x=1"), chunked=True) == 400


def test_a_body_cut_short_stores_no_cut_comment(app, client, slots_dir):
    # The client stopped sending halfway through the comment. gunicorn hands
    # over what came, without an error, and marks the body as ended, so
    # Werkzeug would read a form whose comment is cut: it must not be stored.
    fields = comment_fields(app, client) | {"comment": "Un testo lungo " * 20}
    whole = urlencode(fields).encode()  # the comment is the last field
    body = io.BytesIO(whole[:-100])
    environ_extra = {"wsgi.input_terminated": True, "CONTENT_LENGTH": str(len(whole))}
    assert post_raw(app, COMMENT_PATH, body, client=client, **environ_extra) == 400
    with app.app_context():
        assert not db.session.scalars(
            select(Comment).where(Comment.content.startswith("Un testo lungo"))
        ).all()


def test_a_comment_form_of_more_fields_than_any_page_has_gets_413(app, slots_dir):
    body = io.BytesIO(b"a&" * 5_000)
    assert post_raw(app, COMMENT_PATH, body) == 413


def test_pingbacks_have_slots_of_their_own(client, slots_dir):
    # Slow sources hold at most as many pingbacks as there are ping slots.
    other = WriteSlots(1, os.path.join(slots_dir, "pings"))
    held = other.try_acquire()
    try:
        body = xmlrpc.client.dumps(("a", "b"), "pingback.ping")
        ping = client.post("/xmlrpc.php", data=body, content_type="text/xml")
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(ping.data)
        assert fault.value.faultString == BUSY_MESSAGE
    finally:
        other.release(held)
    # A comment still finds its write slot.
    assert client.post(COMMENT_PATH, data={}).status_code != 503
