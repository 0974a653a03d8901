"""The moderation rules, called directly: no request, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from blog.comments.moderation import (
    CLOSED_MESSAGE,
    DUPLICATE_MESSAGE,
    FLOOD_MESSAGE,
    FORGED_STAMP,
    REPLY_MISSING_MESSAGE,
    REPLY_OTHER_POST_MESSAGE,
    REPLY_TOO_DEEP_MESSAGE,
    TOO_FAST_MESSAGE,
    Candidate,
    History,
    Parent,
    Refusal,
    comments_closed,
    count_links,
    decide,
    refuse,
    refuse_reply,
)
from blog.core.sanitize.comment import clean_comment
from blog.core.settings import CommentSettings, build_settings

NOW = datetime(2024, 5, 1, 12, 0)
DEFAULTS = CommentSettings()


def reader(text: str = "Bell'articolo, grazie.", **fields) -> Candidate:
    """A plain reader's comment typed slowly enough, with its sanitised HTML."""
    values = {
        "author_name": "Lucia",
        "author_email": "lucia@example.org",
        "author_ip": "127.0.0.9",
        "user_agent": "Firefox",
        "seconds_to_submit": 60.0,
        **fields,
    }
    return Candidate(content=text, content_html=clean_comment(text), **values)


def test_the_messages_are_the_announced_ones():
    assert DUPLICATE_MESSAGE == "Commento duplicato: sembra che tu l'abbia già scritto!"
    assert FLOOD_MESSAGE.startswith("Hai appena inviato un commento: aspetta")


def test_every_comment_is_held_by_default():
    decision = decide(reader(), History(), DEFAULTS)
    assert decision.status == "pending"
    assert decision.reason == "in attesa di approvazione"


def test_without_hold_all_a_clean_comment_is_approved():
    settings = CommentSettings(hold_all=False)
    assert decide(reader(), History(), settings).status == "approved"


def test_the_signed_in_author_is_approved_at_once():
    settings = CommentSettings(disallowed_words=("grazie",))
    assert decide(reader(by_author=True), History(), settings).status == "approved"


class TestReturningCommenter:
    settings = CommentSettings(auto_approve_known=True)

    def test_proof_of_an_approved_comment_approves(self):
        decision = decide(reader(), History(proven_known=True), self.settings)
        assert decision.status == "approved"
        assert decision.reason == "commentatore già approvato"

    def test_a_matching_name_and_email_alone_prove_nothing(self):
        # History carries no "known name" flag at all: only the token counts.
        assert decide(reader(), History(), self.settings).status == "pending"

    def test_proof_is_ignored_when_the_option_is_off(self):
        assert decide(reader(), History(proven_known=True), DEFAULTS).status == (
            "pending"
        )

    def test_proof_does_not_bypass_the_link_limit(self):
        text = "https://a.example.com https://b.example.com https://c.example.com"
        decision = decide(reader(text), History(proven_known=True), self.settings)
        assert decision.status == "pending"


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("nessun link", 0),
        ('<a href="https://a.example.com/">a</a> e https://b.example.com/', 2),
        ("https://a.example.com https://b.example.com https://c.example.com", 3),
    ],
)
def test_links_are_counted_in_the_sanitised_html(text, links):
    assert count_links(clean_comment(text)) == links


def test_more_links_than_the_limit_hold_the_comment():
    settings = CommentSettings(hold_all=False, max_links=2)
    two = "https://a.example.com https://b.example.com"
    three = two + " https://c.example.com"
    assert decide(reader(two), History(), settings).status == "approved"
    decision = decide(reader(three), History(), settings)
    assert (decision.status, decision.reason) == ("pending", "3 link (limite 2)")


@pytest.mark.parametrize(
    "field",
    ["content", "author_name", "author_email", "author_url", "author_ip", "user_agent"],
)
def test_moderation_words_match_every_field(field):
    settings = CommentSettings(hold_all=False, moderation_words=("casin",))
    values = {
        "content": "CASINò",
        "author_name": "Casinò Royale",
        "author_email": "casino@example.org",
        "author_url": "https://casino.example/",
        "author_ip": "casin",
        "user_agent": "CasinoBot",
    }
    if field == "content":
        candidate = reader(values["content"])
    else:
        candidate = reader(**{field: values[field]})
    decision = decide(candidate, History(), settings)
    assert decision.status == "pending"
    assert "casin" in decision.reason


@pytest.mark.parametrize(
    "field",
    ["content", "author_name", "author_email", "author_url", "author_ip", "user_agent"],
)
def test_disallowed_words_mark_spam_in_every_field(field):
    settings = CommentSettings(hold_all=False, disallowed_words=("viagra",))
    if field == "content":
        candidate = reader("compra VIAGRA qui")
    else:
        candidate = reader(**{field: "viagra-shop"})
    assert decide(candidate, History(), settings).status == "spam"


def test_a_filled_honeypot_is_spam():
    decision = decide(reader(honeypot="http://spam.example"), History(), DEFAULTS)
    assert (decision.status, decision.reason) == ("spam", "campo trappola compilato")


@pytest.mark.parametrize("seconds", [0.0, 0.5, 2.9])
def test_a_form_sent_implausibly_fast_is_sent_back_to_be_read_again(seconds):
    refusal = refuse(reader(seconds_to_submit=seconds), History(), DEFAULTS)
    assert refusal == Refusal(422, TOO_FAST_MESSAGE)
    author = reader(seconds_to_submit=seconds, by_author=True)
    assert refuse(author, History(), DEFAULTS) is None


def test_a_robot_filling_the_trap_is_never_told_it_was_fast():
    robot = reader(seconds_to_submit=0.5, honeypot="http://spam.example")
    assert refuse(robot, History(), DEFAULTS) is None
    assert decide(robot, History(), DEFAULTS).status == "spam"


def test_a_form_we_never_rendered_is_spam_unless_the_rule_is_off():
    decision = decide(reader(seconds_to_submit=FORGED_STAMP), History(), DEFAULTS)
    assert decision.status == "spam"
    off = CommentSettings(min_seconds=0)
    assert decide(reader(seconds_to_submit=FORGED_STAMP), History(), off).status == (
        "pending"
    )


def test_a_form_sent_after_the_minimum_is_judged_normally():
    settings = CommentSettings(hold_all=False, min_seconds=3)
    assert refuse(reader(seconds_to_submit=3.0), History(), settings) is None
    assert refuse(reader(seconds_to_submit=2.99), History(), settings) == Refusal(
        422, TOO_FAST_MESSAGE
    )
    assert decide(reader(seconds_to_submit=3.0), History(), settings).status == (
        "approved"
    )


def test_pings_skip_the_comment_only_traps():
    ping = Candidate(content="x", type="pingback", honeypot="", seconds_to_submit=0)
    settings = CommentSettings(hold_all=False)
    assert decide(ping, History(), settings).status == "approved"


def test_a_duplicate_is_refused_with_409():
    refusal = refuse(reader(), History(duplicate=True), DEFAULTS)
    assert refusal == Refusal(409, DUPLICATE_MESSAGE)


def test_a_second_comment_within_the_flood_window_is_refused_with_429():
    # Retry-After: the seconds left in the window, rounded up.
    assert refuse(reader(), History(seconds_since_last=14.9), DEFAULTS) == Refusal(
        429, FLOOD_MESSAGE, retry_after=1
    )
    assert refuse(reader(), History(seconds_since_last=2.5), DEFAULTS) == Refusal(
        429, FLOOD_MESSAGE, retry_after=13
    )
    assert refuse(reader(), History(seconds_since_last=15), DEFAULTS) is None
    assert refuse(reader(), History(), DEFAULTS) is None


def test_a_flood_window_of_one_second_still_holds():
    one = replace(DEFAULTS, flood_seconds=1)
    assert refuse(reader(), History(seconds_since_last=0.5), one) == Refusal(
        429, FLOOD_MESSAGE, retry_after=1
    )
    assert refuse(reader(), History(seconds_since_last=1), one) is None


def test_a_flood_window_of_zero_turns_the_rule_off():
    # Two workers storing at the same moment can see a slightly negative gap.
    off = replace(DEFAULTS, flood_seconds=0)
    assert refuse(reader(), History(seconds_since_last=-0.01), off) is None
    assert refuse(reader(), History(seconds_since_last=-0.01), DEFAULTS) == Refusal(
        429, FLOOD_MESSAGE, retry_after=15
    )


def test_the_author_is_exempt_from_the_flood_rule_but_not_duplicates():
    author = reader(by_author=True)
    assert refuse(author, History(seconds_since_last=1), DEFAULTS) is None
    assert refuse(author, History(duplicate=True), DEFAULTS).status_code == 409


class TestClosedComments:
    published = NOW - timedelta(days=10)

    def test_open_post_without_age_limit_is_open(self):
        assert not comments_closed("open", self.published, DEFAULTS, NOW)

    def test_closed_by_hand(self):
        assert comments_closed("closed", self.published, DEFAULTS, NOW)

    def test_closed_after_n_days(self):
        settings = CommentSettings(close_after_days=9)
        assert comments_closed("open", self.published, settings, NOW)
        settings = CommentSettings(close_after_days=10)
        assert not comments_closed("open", self.published, settings, NOW)

    def test_the_closed_message(self):
        assert CLOSED_MESSAGE == "I commenti per questo articolo sono chiusi."


class TestReplies:
    def test_an_approved_parent_on_the_same_post_is_fine(self):
        assert refuse_reply(Parent(7, "approved", 1), 7, DEFAULTS) is None

    @pytest.mark.parametrize("status", ["pending", "spam", "trash"])
    def test_a_parent_that_is_not_approved_is_refused(self, status):
        refusal = refuse_reply(Parent(7, status, 1), 7, DEFAULTS)
        assert refusal == Refusal(422, REPLY_MISSING_MESSAGE)

    @pytest.mark.parametrize("kind", ["pingback", "webmention"])
    def test_a_ping_takes_no_replies(self, kind):
        refusal = refuse_reply(Parent(7, "approved", 1, kind), 7, DEFAULTS)
        assert refusal == Refusal(422, REPLY_MISSING_MESSAGE)

    def test_a_missing_parent_is_refused(self):
        assert refuse_reply(None, 7, DEFAULTS) == Refusal(422, REPLY_MISSING_MESSAGE)

    def test_a_parent_on_another_post_is_refused(self):
        refusal = refuse_reply(Parent(8, "approved", 1), 7, DEFAULTS)
        assert refusal == Refusal(422, REPLY_OTHER_POST_MESSAGE)

    def test_replies_stop_at_the_configured_depth(self):
        settings = CommentSettings(thread_depth=3)
        assert refuse_reply(Parent(7, "approved", 2), 7, settings) is None
        refusal = refuse_reply(Parent(7, "approved", 3), 7, settings)
        assert refusal == Refusal(422, REPLY_TOO_DEEP_MESSAGE)


def test_a_candidate_is_read_from_an_unsaved_response():
    from blog.comments.moderation import candidate_from
    from blog.models import Comment

    response = Comment(
        content="Ciao",
        content_html="<p>Ciao</p>",
        author_name="Ada",
        author_ip="127.0.0.9",
    )
    candidate = candidate_from(response, honeypot="x")
    assert candidate == Candidate(
        content="Ciao",
        content_html="<p>Ciao</p>",
        author_name="Ada",
        author_ip="127.0.0.9",
        honeypot="x",
    )
    assert decide(candidate, History(), DEFAULTS).status == "spam"


def test_a_comment_page_holds_at_least_one_thread():
    assert CommentSettings(comments_per_page=0).comments_per_page == 1
    assert build_settings({}, {"comments_per_page": "-5"}).comments_per_page == 1
