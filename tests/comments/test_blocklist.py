"""The author's blocklist: email, domain, address, network (#14)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import pytest
from helpers_admin import add_comment, comment_status, csrf_from, soup
from helpers_comments import newest_comment, send_comment, the_post
from sqlalchemy import insert, select, update

from blog.admin import actions, block_views
from blog.comments import blocklist
from blog.comments.blocklist import (
    BLOCKS_PER_PAGE,
    BlockChoice,
    block_choices,
    blocked_sender,
)
from blog.comments.moderation import (
    Candidate,
    History,
    block_keys,
    block_network,
    blocked_reason,
    decide,
)
from blog.comments.operations import NewResponse, add_response
from blog.core.settings import CommentSettings
from blog.extensions import db
from blog.models import Block, Comment

# The flood rule would refuse the second comment from the same test address.
pytestmark = pytest.mark.app_config(COMMENT_HOLD_ALL=False, COMMENT_FLOOD_SECONDS=0)


class TestKeys:
    """Which values can name a sender: a handful, looked up in one query."""

    def test_an_email_is_matched_whatever_its_case(self):
        assert ("email", "lucia@example.org") in block_keys(
            " Lucia@Example.ORG ", (), ""
        )

    def test_an_email_is_matched_however_its_domain_is_spelled(self):
        for typed in ("lucia@xn--bcher-kva.example", "LUCIA@\uff42ücher.example"):
            assert ("email", "lucia@bücher.example") in block_keys(typed, (), "")

    def test_an_emails_domain_covers_every_address_there(self):
        keys = block_keys("Offerte123@Mail.Spam.Example", (), "")
        assert {
            ("mailhost", "mail.spam.example"),
            ("mailhost", "spam.example"),
        } <= keys
        assert ("mailhost", "example") not in keys

    def test_an_email_without_a_domain_names_no_mail_domain(self):
        # An imported comment's "email" may be any text.
        assert block_keys("spam.example", (), "") == {("email", "spam.example")}

    def test_a_domain_covers_its_subdomains_but_not_its_suffix(self):
        keys = block_keys("", ("https://www.blog.spam.example/pagina",), "")
        assert {("domain", "blog.spam.example"), ("domain", "spam.example")} <= keys
        assert ("domain", "example") not in keys

    def test_a_deep_host_asks_only_a_handful_of_names(self):
        keys = block_keys("", ("http://a.b.c.d.e.f.example.org/",), "")
        assert len(keys) == 4
        assert ("domain", "a.b.c.d.e.f.example.org") in keys
        assert ("domain", "example.org") in keys

    def test_an_ipv4_address_and_its_slash_24(self):
        assert block_keys("", (), "203.0.113.77") == {
            ("ip", "203.0.113.77"),
            ("network", "203.0.113.0/24"),
        }

    def test_an_ipv6_address_and_its_slash_64(self):
        assert block_keys("", (), "2001:DB8::1:2") == {
            ("ip", "2001:db8::1:2"),
            ("network", "2001:db8::/64"),
        }

    def test_an_ipv4_client_of_a_dual_stack_socket_is_its_ipv4_address(self):
        # Its /64 would be ::ffff:0:0/64, every IPv4 client of the server.
        assert block_keys("", (), "::ffff:203.0.113.77") == {
            ("ip", "203.0.113.77"),
            ("network", "203.0.113.0/24"),
        }
        assert block_network("::ffff:203.0.113.77") == "203.0.113.0/24"

    def test_no_value_no_key(self):
        assert block_keys("", ("", None, "non un url"), "non un ip") == set()

    def test_the_reason_names_the_matching_block(self):
        keys = block_keys("lucia@example.org", (), "")
        reason = blocked_reason(keys, [("email", "lucia@example.org")])
        assert reason == "indirizzo bloccato (email lucia@example.org)"
        assert blocked_reason(keys, [("domain", "lucia@example.org")]) == ""

    def test_a_blocked_sender_goes_to_spam_before_any_other_rule(self):
        decision = decide(
            Candidate(content="ciao"),
            History(blocked="indirizzo bloccato (IP 192.0.2.1)"),
            CommentSettings(hold_all=False),
        )
        assert (decision.status, decision.reason) == (
            "spam",
            "indirizzo bloccato (IP 192.0.2.1)",
        )

    def test_the_author_is_never_blocked(self):
        decision = decide(
            Candidate(content="ciao", by_author=True),
            History(blocked="indirizzo bloccato (IP 192.0.2.1)"),
            CommentSettings(),
        )
        assert decision.status == "approved"


_NUMBERS = itertools.count()


def block(app, kind: str, value: str, reason: str = "") -> None:
    with app.app_context():
        db.session.add(Block(kind=kind, value=value, reason=reason))
        db.session.commit()


def sent_status(app, client, **fields) -> tuple[str, str]:
    """Send a comment (a new text each time, never a duplicate); its outcome."""
    fields.setdefault("text", f"Commento {next(_NUMBERS)}")
    assert send_comment(client, app, **fields).status_code == 302
    with app.app_context():
        comment = newest_comment()
        return comment.status, comment.moderation_reason


class TestEachKind:
    def test_a_blocked_email(self, app, client):
        block(app, "email", "lucia@example.org")
        status, reason = sent_status(app, client, email="LUCIA@example.org")
        assert (status, reason) == (
            "spam",
            "indirizzo bloccato (email lucia@example.org)",
        )
        other = app.test_client()
        assert sent_status(app, other, email="marco@example.org")[0] == ("approved")

    def test_a_blocked_domain(self, app, client):
        block(app, "domain", "spam.example")
        status, reason = sent_status(app, client, url="https://shop.spam.example/x")
        assert status == "spam" and reason.startswith("indirizzo bloccato (dominio")
        other = app.test_client()
        assert sent_status(
            app, other, url="https://notspam.example/", email="m@example.org"
        )[0] == ("approved")

    def test_a_blocked_mail_domain(self, app, client):
        block(app, "mailhost", "spam.example")
        status, reason = sent_status(app, client, email="nuovo4821@mail.spam.example")
        assert (status, reason) == (
            "spam",
            "indirizzo bloccato (dominio email spam.example)",
        )
        other = app.test_client()
        assert sent_status(app, other, email="m@example.org")[0] == "approved"

    def test_a_blocked_address(self, app, client):
        block(app, "ip", "127.0.0.1")
        assert sent_status(app, client) == ("spam", "indirizzo bloccato (IP 127.0.0.1)")
        neighbour = app.test_client()
        neighbour.environ_base["REMOTE_ADDR"] = "127.0.0.9"
        assert sent_status(app, neighbour, email="m@example.org")[0] == ("approved")

    def test_a_blocked_network(self, app, client):
        block(app, "network", "127.0.0.0/24")
        neighbour = app.test_client()
        neighbour.environ_base["REMOTE_ADDR"] = "127.0.0.9"
        assert sent_status(app, neighbour)[0] == "spam"
        outside = app.test_client()
        outside.environ_base["REMOTE_ADDR"] = "127.0.1.9"
        assert sent_status(app, outside, email="m@example.org")[0] == ("approved")

    @pytest.mark.parametrize("kind", ["webmention", "pingback"])
    def test_pings_from_a_blocked_domain(self, app, kind):
        block(app, "domain", "spam.example")
        with app.app_context():
            ping = add_response(
                the_post(),
                NewResponse(
                    content="[...] un estratto [...]",
                    type=kind,
                    source_url="https://www.spam.example/articolo",
                    author_url="https://www.spam.example/articolo",
                    author_name="Spam",
                ),
                CommentSettings(hold_all=False),
            )
            assert (ping.status, ping.moderation_reason) == (
                "spam",
                "indirizzo bloccato (dominio spam.example)",
            )

    def test_the_form_asks_within_the_sender_history_statement(
        self, app, client, count_queries
    ):
        with app.app_context():
            db.session.add_all(
                Block(kind="email", value=f"spam{n}@example.org") for n in range(300)
            )
            db.session.commit()
        block(app, "email", "lucia@example.org")
        with count_queries() as counter:
            assert send_comment(client, app).status_code == 302
        reads = [s for s in counter.statements if re.search(r"\bFROM block\b", s)]
        assert len(reads) == 1 and re.search(r"\bFROM comment\b", reads[0])
        with app.app_context():
            assert newest_comment().status == "spam"

    def test_the_look_up_is_one_query_however_many_blocks(self, app, count_queries):
        with app.app_context():
            db.session.add_all(
                Block(kind="email", value=f"spam{n}@example.org") for n in range(300)
            )
            db.session.commit()
            with count_queries() as counter:
                reason = blocked_sender(
                    "spam7@example.org", ("https://x.example/",), "192.0.2.1"
                )
        assert reason == "indirizzo bloccato (email spam7@example.org)"
        assert counter.count == 1


class TestAdmin:
    def queue_block(self, app, client, comment_id: int, kind: str, reason: str = ""):
        token = csrf_from(client, "/admin/comments")
        return client.post(
            f"/admin/comments/{comment_id}/block",
            data={"kind": kind, "reason": reason, "csrf_token": token, "next": ""},
        )

    def test_a_queue_row_offers_each_kind_it_can(self, app, author_client):
        comment_id = add_comment(
            app,
            author_email="Spam@Example.org",
            author_url="https://www.spam.example/",
            author_ip="192.0.2.10",
        )
        row = soup(author_client.get("/admin/comments")).select_one(
            f"#comment-{comment_id}"
        )
        # The row links to the block form, open on the response's own page.
        page = soup(author_client.get(row.find("a", string="Blocca")["href"]))
        form = page.select_one(f"#blocca-{comment_id}")
        assert form.has_attr("open")
        choices = form.select("fieldset label")
        labels = [label.get_text() for label in choices]
        assert labels == [
            "email: spam@example.org",
            "dominio email: example.org",
            "dominio: spam.example",
            "IP: 192.0.2.10",
            "rete: 192.0.2.0/24",
        ]

    @pytest.mark.parametrize(
        ("kind", "value"),
        [
            ("email", "spam@example.org"),
            ("mailhost", "example.org"),
            ("domain", "spam.example"),
            ("ip", "192.0.2.10"),
            ("network", "192.0.2.0/24"),
        ],
    )
    def test_blocca_stores_the_value_from_the_response(
        self, app, author_client, kind, value
    ):
        comment_id = add_comment(
            app,
            author_email="spam@example.org",
            author_url="https://spam.example/",
            author_ip="192.0.2.10",
        )
        response = self.queue_block(app, author_client, comment_id, kind, "insiste")
        assert response.status_code == 302
        with app.app_context():
            stored = db.session.scalars(select(Block)).one()
            assert (stored.kind, stored.value, stored.reason) == (
                kind,
                value,
                "insiste",
            )

    def test_blocca_takes_the_senders_held_responses_to_spam_if_asked(
        self, app, author_client
    ):
        """A wave's backlog leaves with its sender: one click, not a page of
        ticks. The box is ticked in the form; unticked, nothing moves."""
        wave = [
            add_comment(app, author_email=f"offerta{n}@spam.example") for n in range(3)
        ]
        reader = add_comment(app, author_email="lucia@example.org")
        shown = add_comment(app, author_email="vecchio@spam.example", status="approved")
        page = soup(author_client.get(f"/admin/comments/{wave[0]}?blocca=1"))
        form = page.select_one(f"#blocca-{wave[0]} form")
        box = form.select_one("input[name=held]")
        assert box.has_attr("checked")
        assert form.find("label", attrs={"for": box["id"]}).get_text() == (
            "Sposta nello spam anche le sue risposte in attesa"
        )
        data = {
            "kind": "mailhost",
            "held": "1",
            "csrf_token": form.select_one("input[name=csrf_token]")["value"],
            "next": "/admin/comments",
        }
        response = author_client.post(form["action"], data=data)
        landed = soup(author_client.get(response.headers["Location"]))
        assert "Risposte in attesa spostate nello spam: 3." in landed.get_text()
        assert [comment_status(app, i) for i in wave] == ["spam"] * 3
        assert comment_status(app, reader) == "pending"
        assert comment_status(app, shown) == "approved"  # only held ones

    def test_blocca_without_the_box_moves_nothing_held(self, app, author_client):
        first, second = (
            add_comment(app, author_email=f"offerta{n}@spam.example") for n in range(2)
        )
        response = self.queue_block(app, author_client, first, "mailhost")
        assert response.status_code == 302
        assert [comment_status(app, i) for i in (first, second)] == ["pending"] * 2

    def move_held(self, app, client, comment_id: int, kind: str):
        token = csrf_from(client, "/admin/comments")
        data = {"kind": kind, "held": "1", "csrf_token": token, "next": ""}
        response = client.post(f"/admin/comments/{comment_id}/block", data=data)
        assert response.status_code == 302
        return soup(client.get(response.headers["Location"])).get_text(" ")

    @pytest.mark.parametrize(
        ("kind", "same", "other"),
        [
            ("email", {"author_email": "S@Spam.example"}, {}),
            ("mailhost", {"author_email": "altro@mail.spam.example"}, {}),
            ("domain", {"author_url": "https://blog.spam.example/x"}, {}),
            ("ip", {"author_ip": "::ffff:192.0.2.10"}, {"author_ip": "192.0.2.11"}),
            ("network", {"author_ip": "192.0.2.99"}, {"author_ip": "192.0.3.10"}),
        ],
    )
    def test_each_kind_moves_the_held_responses_it_names(
        self, app, author_client, kind, same, other
    ):
        sender = {
            "author_email": "s@spam.example",
            "author_url": "https://spam.example/",
            "author_ip": "192.0.2.10",
        }
        stranger = {
            "author_email": "lucia@example.org",
            "author_url": "https://example.org/",
            "author_ip": "198.51.100.7",
        }
        first = add_comment(app, **sender)
        named = add_comment(app, **(stranger | same))
        left = add_comment(app, **(stranger | other))
        self.move_held(app, author_client, first, kind)
        statuses = [comment_status(app, i) for i in (first, named, left)]
        assert statuses == ["spam", "spam", "pending"]

    def test_a_response_approved_since_the_scan_stays_published(
        self, app, author_client, monkeypatch
    ):
        wave = [add_comment(app, author_email=f"o{n}@spam.example") for n in range(2)]
        scan = actions.held_from_sender

        def approved_meanwhile(kind, value):
            ids, more = scan(kind, value)
            db.session.execute(
                update(Comment).where(Comment.id == wave[1]).values(status="approved")
            )
            return ids, more

        monkeypatch.setattr(actions, "held_from_sender", approved_meanwhile)
        text = self.move_held(app, author_client, wave[0], "mailhost")
        assert "spostate nello spam: 1." in text
        assert [comment_status(app, i) for i in wave] == ["spam", "approved"]

    def test_one_click_moves_a_bounded_number_and_says_more_may_be_left(
        self, app, author_client, monkeypatch
    ):
        monkeypatch.setattr(blocklist, "HELD_MOVED", 2)
        wave = [add_comment(app, author_email=f"o{n}@spam.example") for n in range(3)]
        text = self.move_held(app, author_client, wave[0], "mailhost")
        assert "spostate nello spam: 2." in text
        assert "premi di nuovo «Blocca»" in text
        text = self.move_held(app, author_client, wave[0], "mailhost")
        assert "spostate nello spam: 1." in text and "di nuovo" not in text
        assert {comment_status(app, i) for i in wave} == {"spam"}

    def test_a_long_reason_is_kept_to_its_first_300_characters(
        self, app, author_client
    ):
        # Block.reason holds 300: PostgreSQL would refuse a longer one.
        comment_id = add_comment(app, author_email="prolisso@example.org")
        response = self.queue_block(app, author_client, comment_id, "email", "x" * 400)
        assert response.status_code == 302
        with app.app_context():
            assert db.session.scalars(select(Block.reason)).one() == "x" * 300

    def test_settings_list_the_newest_block_first(self, app, author_client):
        with app.app_context():
            db.session.add_all(
                Block(kind="ip", value=value, created_at=datetime(2026, 1, day))
                for value, day in (("192.0.2.1", 1), ("192.0.2.3", 3), ("192.0.2.2", 2))
            )
            db.session.commit()
        rows = soup(author_client.get("/admin/settings")).select("#blocks tbody tr")
        values = [row.select("td")[1].get_text(strip=True) for row in rows]
        assert values == ["192.0.2.3", "192.0.2.2", "192.0.2.1"]

    def test_blocking_twice_keeps_one_block(self, app, author_client):
        comment_id = add_comment(app)
        self.queue_block(app, author_client, comment_id, "email")
        self.queue_block(app, author_client, comment_id, "email")
        with app.app_context():
            assert len(db.session.scalars(select(Block)).all()) == 1

    def test_a_double_click_whose_twin_wrote_first_is_not_an_error(
        self, app, author_client, monkeypatch
    ):
        # Two POSTs of one "Blocca" run side by side: both find no block, the
        # other one stores it first, this one's INSERT meets the unique key.
        comment_id = add_comment(app, author_email="doppio@example.org")
        checked = block_views.block_sender

        def twin_stores_it_meanwhile(comment, kind, reason):
            block = checked(comment, kind, reason)
            with db.engine.begin() as twin:
                twin.execute(
                    insert(Block).values(kind=kind, value=block.value, reason="gemello")
                )
            return block

        monkeypatch.setattr(block_views, "block_sender", twin_stores_it_meanwhile)
        response = self.queue_block(app, author_client, comment_id, "email")
        assert response.status_code == 302
        page = author_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Bloccato (email doppio@example.org)" in page
        with app.app_context():
            assert [b.value for b in db.session.scalars(select(Block))] == [
                "doppio@example.org"
            ]

    def test_an_unknown_kind_is_refused_in_italian(self, app, author_client):
        comment_id = add_comment(app, author_url="")
        response = self.queue_block(app, author_client, comment_id, "domain")
        # Back to the block form, open on the response's page.
        page = soup(author_client.get(response.headers["Location"]))
        assert (
            "non ha un dato da bloccare" in page.select_one(".notice-error").get_text()
        )
        assert page.select_one(f"#blocca-{comment_id}").has_attr("open")
        with app.app_context():
            assert db.session.scalars(select(Block)).all() == []

    def test_the_reason_shows_in_the_queue(self, app, author_client):
        block(app, "email", "lucia@example.org")
        send_comment(app.test_client(), app)
        page = soup(author_client.get("/admin/comments?view=spam"))
        assert "indirizzo bloccato (email lucia@example.org)" in page.get_text()

    def test_settings_list_the_blocks_and_lift_them(self, app, author_client):
        block(app, "email", "lucia@example.org", "spam ripetuto")
        page = soup(author_client.get("/admin/settings"))
        row = page.select_one("#blocks tbody tr")
        cells = [cell.get_text(strip=True) for cell in row.select("td")][:4]
        assert cells[:2] == ["email", "lucia@example.org"] and cells[3] == (
            "spam ripetuto"
        )
        assert row.select_one("time")
        token = row.select_one("input[name=csrf_token]")["value"]
        author_client.post(row.select_one("form")["action"], data={"csrf_token": token})
        assert sent_status(app, app.test_client())[0] == "approved"
        assert (
            soup(author_client.get("/admin/settings")).select_one("#blocks tbody")
            is None
        )

    def test_a_long_blocklist_is_shown_a_page_at_a_time(self, app, author_client):
        # Blocking from the queue can make the list long: the settings page
        # carries one page of it, newest first, and leads to the others.
        with app.app_context():
            db.session.execute(
                insert(Block),
                [
                    {"kind": "ip", "value": f"192.0.2.{n}", "reason": f"n{n}"}
                    for n in range(1, 121)
                ],
            )
            db.session.commit()
        first = soup(author_client.get("/admin/settings"))
        assert len(first.select("#blocks tbody tr")) == BLOCKS_PER_PAGE
        assert "Pagina 1 di 3" in first.select_one("#blocks .pager").get_text()
        last = soup(author_client.get(first.select_one("#blocks a[rel=next]")["href"]))
        page_two = [
            row.select("td")[1].get_text() for row in last.select("#blocks tbody tr")
        ]
        assert len(page_two) == BLOCKS_PER_PAGE
        assert set(page_two).isdisjoint(
            row.select("td")[1].get_text() for row in first.select("#blocks tbody tr")
        )

    def test_a_page_past_the_last_shows_the_last(self, app, author_client):
        with app.app_context():
            db.session.execute(
                insert(Block),
                [{"kind": "ip", "value": f"192.0.2.{n}"} for n in range(1, 61)],
            )
            db.session.commit()
        page = soup(author_client.get("/admin/settings?blocchi=5"))
        assert len(page.select("#blocks tbody tr")) == 10
        assert "Pagina 2 di 2" in page.select_one("#blocks .pager").get_text()
        assert page.select_one("#blocks .empty-list") is None

    def test_blocking_needs_the_author(self, app, client):
        comment_id = add_comment(app)
        token = csrf_from(client, "/admin/login")
        response = client.post(
            f"/admin/comments/{comment_id}/block",
            data={"kind": "email", "csrf_token": token},
        )
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]
        with app.app_context():
            assert db.session.scalars(select(Block)).all() == []


def test_a_trailing_dot_does_not_escape_a_domain_block():
    assert ("domain", "spam.example") in block_keys("", ["http://spam.example./x"], "")


def test_the_queue_offers_a_pings_source_domain_to_block():
    # Not its h-card's: that may be a whole social network.
    ping = Comment(
        type="webmention",
        author_email="",
        author_ip="",
        source_url="https://spam.example/p",
        author_url="https://social.example/@a",
    )
    assert BlockChoice("domain", "spam.example") in block_choices(ping)


@pytest.mark.parametrize("email", ["a@", "@spam.example", "spam.example"])
def test_an_address_without_a_name_or_a_domain_offers_no_mail_domain(email):
    # Imported data: the choice offered is one the rule would match.
    imported = Comment(author_email=email, author_ip="", author_url="")
    kinds = [choice.kind for choice in block_choices(imported)]
    assert kinds == ["email"]
    assert not any(kind == "mailhost" for kind, _ in block_keys(email, (), ""))
