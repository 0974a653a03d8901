"""Moving from Disqus: import-disqus puts each thread's comments on its post."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup
from helpers_disqus import DISQUS, OTHER_POST, SEED_POST, export, post, thread
from helpers_wxr import WXR
from sqlalchemy import func, select

from blog.disqus import read_disqus
from blog.disqus.importer import author_name, match_thread, message_text
from blog.extensions import db
from blog.models import Comment, Post

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<disqus xmlns="http://disqus.com"><category>&lol3;</category></disqus>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE disqus [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<disqus xmlns="http://disqus.com"><category>&xxe;</category></disqus>"""


def write(tmp_path, text: str, name: str = "disqus.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(runner, path):
    return runner.invoke(args=["import-disqus", str(path)])


@pytest.fixture
def imported(runner, tmp_path):
    result = run(runner, write(tmp_path, DISQUS))
    assert result.exit_code == 0, result.output
    return result.output


def disqus_comments(slug: str) -> dict[str, Comment]:
    """The post's Disqus comments by author name (a later one of a name wins)."""
    post_id = db.session.scalar(select(Post.id).where(Post.slug == slug))
    return {
        c.author_name: c
        for c in db.session.scalars(
            select(Comment)
            .where(
                Comment.post_id == post_id,
                Comment.moderation_reason == "importato da Disqus",
            )
            .order_by(Comment.created_at)
        )
    }


def comment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Comment))


def test_threads_match_posts_by_link_and_keep_dates_authors_and_nesting(app, imported):
    with app.app_context():
        found = disqus_comments(SEED_POST)
        assert set(found) == {"Anna Neri", "Bruno", "Offerte", "Carla"}
        anna = found["Anna Neri"]  # her second comment, the later one
        first = db.session.scalar(
            select(Comment).where(
                Comment.author_name == "Anna Neri", Comment.parent_id.is_(None)
            )
        )
        assert first.created_at.isoformat() == "2012-10-24T08:00:00"
        assert first.author_email == "anna@example.org"
        assert first.content_html == "<p>Bel pezzo &amp; utile.</p>"
        bruno = found["Bruno"]
        assert bruno.parent_id == first.id and bruno.depth == 2
        assert anna.parent_id == bruno.id and anna.depth == 3
        assert anna.thread_id == first.id
        assert anna.content_html == "<p>Grazie <b>Bruno</b>!</p>"
        # The reply to a deleted comment starts a thread of its own.
        assert found["Carla"].parent_id is None
        assert {c.status for n, c in found.items() if n != "Offerte"} == {"approved"}
        assert found["Offerte"].status == "spam"


def test_deleted_comments_are_skipped_and_unmatched_threads_reported(app, imported):
    assert (
        "unmatched thread: Pagina sparita <https://vecchio.example.org/pagina-sparita/>"
        in imported
    )
    assert "Solo visitata" not in imported  # no comments: nothing lost
    assert "skipped deleted: 1" in imported
    assert "skipped in unmatched threads: 1" in imported
    with app.app_context():
        names = set(db.session.scalars(select(Comment.author_name)))
    assert "Cancellato" not in names and "Dario" not in names


def test_comments_are_sanitised_and_guests_are_kept(app, imported):
    with app.app_context():
        guest = disqus_comments(OTHER_POST)["Ospite"]
    html = BeautifulSoup(guest.content_html, "html.parser")
    assert html.find(["script", "img"]) is None
    assert not any(tag.attrs for tag in html.find_all(True))
    assert guest.author_email == "finto@example.org"
    assert guest.status == "approved"


def test_imported_comments_are_on_the_post_page(client, imported):
    page = BeautifulSoup(
        client.get(f"/{SEED_POST}/").get_data(as_text=True), "html.parser"
    )
    names = [cite.get_text(strip=True) for cite in page.select("cite.fn")]
    assert "Bruno" in names and "Offerte" not in names


def test_a_second_run_adds_nothing(app, runner, tmp_path, imported):
    with app.app_context():
        before = comment_count()
    result = run(runner, write(tmp_path, DISQUS, "again.xml"))
    assert result.exit_code == 0, result.output
    assert "0 added approved, 0 added as spam, 6 already present" in result.output
    with app.app_context():
        assert comment_count() == before


def test_a_thread_at_an_old_wordpress_address_finds_the_imported_post(
    app, runner, tmp_path
):
    assert (
        runner.invoke(
            args=["import-wxr", str(write(tmp_path, WXR, "wp.xml"))]
        ).exit_code
        == 0
    )
    document = export(
        thread("9", "https://caffe.example.org/2013/02/caffe-e-community/", "Caffè"),
        post("91", "9", "Elena", "2013-04-01T10:00:00Z", "<p>Dal vecchio Disqus.</p>"),
    )
    result = run(runner, write(tmp_path, document))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(disqus_comments("caffe-e-community")) == {"Elena"}


@pytest.mark.parametrize(
    ("link", "slug"),
    [
        (
            "https://caffe.example.org/2013/02/caffe-e-community/amp/",
            "caffe-e-community",
        ),
        (
            "https://caffe.example.org/2013/02/caffe-e-community/comment-page-2/",
            "caffe-e-community",
        ),
        (f"https://x.example/{SEED_POST}/amp/", SEED_POST),
    ],
)
def test_a_thread_at_a_view_of_a_post_finds_the_post(app, runner, tmp_path, link, slug):
    runner.invoke(args=["import-wxr", str(write(tmp_path, WXR, "wp.xml"))])
    with app.app_context():
        assert match_thread(link).slug == slug


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (BILLION_LAUGHS, "Refused unsafe XML"),
        (EXTERNAL_ENTITY, "Refused unsafe XML"),
        ("<disqus xmlns='http://disqus.com'><post>", "Not well-formed XML"),
        ("<rss><channel/></rss>", "Not a Disqus export"),
        (
            export(
                thread("1", f"https://x.example/{SEED_POST}/", "t"),
                post("1", "1", "Prima", "2012-10-24T08:00:00Z", "<p>ok</p>"),
                post("2", "1", "Senza data", "ieri", "<p>no</p>"),
            ),
            "A post without an id or a date: 2",
        ),
    ],
)
def test_broken_or_hostile_files_are_refused_with_nothing_imported(
    app, runner, tmp_path, document, reason
):
    with app.app_context():
        before = comment_count()
    result = run(runner, write(tmp_path, document))
    assert result.exit_code == 1
    assert reason in result.output
    with app.app_context():
        assert comment_count() == before


def test_overlong_author_fields_are_cut_to_the_columns(app, runner, tmp_path):
    # PostgreSQL refuses a value longer than its column: the whole file failed.
    name, email = "N" * 300, "a" * 110 + "@example.org"
    document = export(
        thread("1", f"https://x.example/{SEED_POST}/", "t"),
        post("1", "1", name, "2012-10-24T08:00:00Z", "<p>ok</p>", email=email),
    )
    path = write(tmp_path, document)
    for _ in range(2):  # the second run finds it there
        result = run(runner, path)
        assert result.exit_code == 0, result.output
    with app.app_context():
        [stored] = disqus_comments(SEED_POST).values()
        assert stored.author_name == name[:245]
        assert stored.author_email == email[:100]


def test_a_date_outside_the_calendar_is_a_broken_file(app, runner, tmp_path):
    document = export(
        thread("1", f"https://x.example/{SEED_POST}/", "t"),
        post("1", "1", "Prima", "0001-01-01T00:00:00+01:00", "<p>ok</p>"),
    )
    result = run(runner, write(tmp_path, document))
    assert result.exit_code == 1
    assert "A post without an id or a date: 1" in result.output


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Uno.</p><p>Due.</p>", "Uno.\n\nDue."),
        ("<p>Riga<br>a capo</p>", "Riga\na capo"),
        ("Senza paragrafi", "Senza paragrafi"),
    ],
)
def test_disqus_paragraphs_become_typed_text(html, text):
    assert message_text(html) == text


@pytest.mark.parametrize(
    ("name", "anonymous", "username", "shown"),
    [
        ("Elena", False, "elena_k", "Elena"),
        ("", False, "elena_k", "elena_k"),
        ("", True, "", "Anonimo"),
    ],
)
def test_the_name_shown_falls_back_to_the_account_then_anonimo(
    name, anonymous, username, shown
):
    document = export(
        post(
            "1",
            "1",
            name,
            "2012-10-24T08:00:00Z",
            "x",
            anonymous=anonymous,
            username=username,
        )
    )
    (item,) = read_disqus(io.BytesIO(document.encode())).posts
    assert author_name(item) == shown


def test_a_thread_link_holding_a_nul_once_decoded_matches_no_old_address(app):
    # "%2500" decodes to "%00", which the old address's own decoding makes a
    # NUL: PostgreSQL refuses it in text, so it must never reach a query.
    with app.app_context():
        assert match_thread("http://vecchio.example/x%00y/") is None


def test_two_guests_in_one_second_are_two_comments(app, runner, tmp_path):
    # Both nameless ("Anonimo"), in the same thread and second.
    document = export(
        thread("1", f"https://x.example/{SEED_POST}/", "t"),
        post("1", "1", "", "2012-10-24T08:00:00Z", "<p>Primo.</p>", anonymous=True),
        post("2", "1", "", "2012-10-24T08:00:00Z", "<p>Secondo.</p>", anonymous=True),
    )
    path = write(tmp_path, document)
    assert "2 added approved" in run(runner, path).output
    again = run(runner, path).output
    assert "0 added approved, 0 added as spam, 2 already present" in again
    with app.app_context():
        texts = db.session.scalars(
            select(Comment.content).where(Comment.author_name == "Anonimo")
        )
        assert sorted(texts) == ["Primo.", "Secondo."]
