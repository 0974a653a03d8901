"""Moving from WordPress: import-wxr and export-wxr, idempotent and round-trip."""

from __future__ import annotations

import gzip
import stat
from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from defusedxml import ElementTree
from helpers_posts import add_post
from helpers_wxr import COMMENTS, WXR, comment
from sqlalchemy import func, select

from blog import create_app
from blog.extensions import db
from blog.models import Author, Category, Comment, Post
from blog.ops.schema import upgrade_database
from blog.wxr import read_wxr
from blog.wxr.names import ping_excerpt

WP = "{http://wordpress.org/export/1.2/}"


@pytest.fixture
def wxr_file(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(WXR, encoding="utf-8")
    return path


def import_file(runner, path) -> str:
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def imported_comments() -> dict[tuple[str, str], Comment]:
    """The imported post's responses by (author name, "day hour:minute")."""
    post = db.session.scalar(select(Post).where(Post.slug == "caffe-e-community"))
    rows = db.session.scalars(select(Comment).where(Comment.post_id == post.id))
    return {(c.author_name, f"{c.created_at:%d %H:%M}"): c for c in rows}


def snapshot() -> list[tuple]:
    """Every row of the content tables, comparable between two moments."""
    rows = []
    for model in (Author, Category, Post, Comment):
        for obj in db.session.scalars(select(model).order_by(model.id)):
            rows.append(tuple(getattr(obj, col.key) for col in model.__table__.columns))
    return rows


def content() -> dict:
    """The blog's content without database ids, to compare two databases."""
    posts = db.session.scalars(select(Post).order_by(Post.slug)).all()
    result = {}
    for post in posts:
        comments = db.session.scalars(
            select(Comment).where(Comment.post_id == post.id).order_by(Comment.id)
        ).all()
        result[post.slug] = (
            post.title,
            post.body,
            post.excerpt,
            post.status,
            post.kind,
            post.published_at,
            post.author.username,
            post.author.display_name,
            sorted((c.slug, c.name) for c in post.categories),
            sorted(
                (
                    c.type,
                    c.status,
                    c.author_name,
                    c.author_email,
                    c.content,
                    c.content_html,
                    c.source_url,
                    c.created_at,
                    c.depth,
                    c.parent.author_name if c.parent else None,
                    c.author.username if c.author else None,
                )
                for c in comments
            ),
        )
    return result


def test_import_brings_posts_authors_and_categories(app, runner, wxr_file):
    output = import_file(runner, wxr_file)
    assert "posts: 2 added" in output
    assert "pages: 1 added" in output
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "caffe-e-community"))
        assert post.title == "Caffè e community: perché sì"
        assert post.status == "published"
        assert post.published_at == datetime(2013, 2, 28, 15, 0)
        assert post.author.username == "mario"
        assert post.author.display_name == "Mario Rossi"
        assert post.excerpt == "Il caffè come metafora."
        assert sorted(c.name for c in post.categories) == [
            "Comunità",
            "Новости & caffè",
        ]
        cyrillic = db.session.scalar(select(Category).where(Category.name == "Новости"))
        assert cyrillic.slug.startswith("categoria-")
        assert post.body.startswith(
            "<p>Una community nasce <em>davanti a un caffè</em>.<br>Poi cresce online."
        )
        assert "<h3>Perché funziona</h3>" in post.body
        assert "<script" not in post.body
        draft = db.session.scalar(select(Post).where(Post.title == "Bozza: il tè"))
        assert (draft.status, draft.slug, draft.published_at) == (
            "draft",
            "bozza-il-te",
            None,
        )
        assert draft.author.username == "giulia"
        assert draft.comment_status == "closed"
        page = db.session.scalar(select(Post).where(Post.slug == "chi-siamo"))
        assert (page.kind, page.status, page.body) == (
            "page",
            "published",
            "<p>Una pagina.</p>",
        )
        assert post.kind == draft.kind == "post"


def test_import_keeps_threads_types_and_statuses(app, runner, wxr_file):
    import_file(runner, wxr_file)
    with app.app_context():
        c = imported_comments()
        zoe = c["Zoë Łukasz", "01 08:00"]
        reply = c["Mario Rossi", "01 09:30"]
        deep = c["Zoë Łukasz", "01 10:00"]
        assert (zoe.parent_id, zoe.thread_id, zoe.depth) == (None, None, 1)
        assert (reply.parent_id, reply.thread_id, reply.depth) == (zoe.id, zoe.id, 2)
        assert (deep.parent_id, deep.thread_id, deep.depth) == (reply.id, zoe.id, 3)
        assert reply.author.username == "mario"
        assert zoe.created_at == datetime(2013, 3, 1, 8, 0)
        assert zoe.content_html == (
            "<p>Grazie! «Ottimo» articolo — è proprio così.</p>\n"
            "<p>Secondo paragrafo.</p>"
        )
        ping = c["Blog Esempio » Risposta al caffè", "02 12:00"]
        assert (ping.type, ping.status) == ("pingback", "approved")
        assert ping.source_url == "https://blog.example.net/risposta-al-caffe/"
        assert ping.source_title == "Blog Esempio » Risposta al caffè"
        assert ping.content == "come spiega Mario nel suo articolo sul caffè"
        trackback = c["Altro Blog", "03 12:00"]
        assert trackback.type == "pingback"
        assert trackback.source_url == "https://altro.example.com/2013/03/trackback/"
        statuses = {name: x.status for (name, _), x in c.items()}
        assert statuses["Offerte Incredibili"] == "spam"
        assert statuses["Paolo Verdi"] == "pending"
        assert statuses["Cestinato"] == "trash"
        assert len(c) == 8


def test_imported_post_page_shows_only_approved_responses(
    app, client, runner, wxr_file
):
    import_file(runner, wxr_file)
    page = BeautifulSoup(
        client.get("/caffe-e-community/").get_data(as_text=True), "html.parser"
    )
    text = page.select_one("#comments").get_text(" ")
    assert "Zoë Łukasz" in text
    assert "come spiega Mario" in text
    assert "Offerte Incredibili" not in text
    assert "Paolo Verdi" not in text
    assert "Cestinato" not in text
    assert page.select("ol.commentlist ol.children ol.children li")


def test_replies_before_their_parents_and_looping_parents_are_threaded(
    app, runner, tmp_path
):
    replies = "".join(
        [
            comment(31, "Nipote", "2013-04-01 10:00:00", "Terzo.", parent=30),
            comment(30, "Figlio", "2013-04-01 09:00:00", "Secondo.", parent=29),
            comment(29, "Nonno", "2013-04-01 08:00:00", "Primo."),
            comment(41, "Anna", "2013-04-02 08:00:00", "Uno.", parent=42),
            comment(42, "Bruno", "2013-04-02 09:00:00", "Due.", parent=41),
        ]
    )
    path = tmp_path / "disordinato.xml"
    path.write_text(WXR.replace(COMMENTS, COMMENTS + replies), encoding="utf-8")
    import_file(runner, path)
    with app.app_context():
        c = imported_comments()
        top, child, grandchild = (
            c["Nonno", "01 08:00"],
            c["Figlio", "01 09:00"],
            c["Nipote", "01 10:00"],
        )
        assert (top.parent_id, top.thread_id, top.depth) == (None, None, 1)
        assert (child.parent_id, child.thread_id, child.depth) == (top.id, top.id, 2)
        assert (grandchild.parent_id, grandchild.thread_id, grandchild.depth) == (
            child.id,
            top.id,
            3,
        )
        # Two comments answering each other: one of them starts the thread.
        anna, bruno = c["Anna", "02 08:00"], c["Bruno", "02 09:00"]
        first, second = sorted((anna, bruno), key=lambda x: x.depth)
        assert (first.parent_id, first.thread_id, first.depth) == (None, None, 1)
        assert (second.parent_id, second.thread_id, second.depth) == (
            first.id,
            first.id,
            2,
        )


def test_second_import_changes_nothing(app, runner, wxr_file):
    import_file(runner, wxr_file)
    with app.app_context():
        before = snapshot()
    output = import_file(runner, wxr_file)
    assert "posts: 0 added, 2 already present" in output
    assert "comments: 0 added, 6 already present" in output
    assert "pingbacks: 0 added, 2 already present" in output
    with app.app_context():
        db.session.expire_all()
        assert snapshot() == before


def test_export_keeps_an_earlier_file_unless_forced(runner, tmp_path):
    target = tmp_path / "out.xml"
    target.write_text("esportazione precedente")
    result = runner.invoke(args=["export-wxr", str(target)])
    assert result.exit_code == 1
    assert "--force" in result.output
    assert target.read_text() == "esportazione precedente"
    assert runner.invoke(args=["export-wxr", "--force", str(target)]).exit_code == 0
    assert "<wp:wxr_version>1.2</wp:wxr_version>" in target.read_text()


def test_an_export_holding_every_address_is_its_owners_alone(runner, tmp_path):
    target = tmp_path / "out.xml"
    assert runner.invoke(args=["export-wxr", str(target)]).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)  # an earlier export, readable by all
    assert runner.invoke(args=["export-wxr", "--force", str(target)]).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_into_a_missing_directory_is_a_one_line_error(runner, tmp_path):
    target = tmp_path / "manca" / "out.xml"
    result = runner.invoke(args=["export-wxr", str(target)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Cannot write {target}")


def test_export_writes_wxr_1_2(app, runner, wxr_file, tmp_path):
    import_file(runner, wxr_file)
    target = tmp_path / "out.xml"
    result = runner.invoke(args=["export-wxr", str(target)])
    assert result.exit_code == 0, result.output
    root = ElementTree.parse(target).getroot()
    channel = root.find("channel")
    assert channel.find(f"{WP}wxr_version").text == "1.2"
    items = channel.findall("item")
    assert len(items) == 6
    kinds = {
        i.find(f"{WP}post_name").text: i.find(f"{WP}post_type").text for i in items
    }
    assert kinds["chi-siamo"] == "page" and kinds["caffe-e-community"] == "post"
    logins = [a.find(f"{WP}author_login").text for a in channel.iter(f"{WP}author")]
    assert logins == ["riccardo", "mario", "giulia"]
    statuses = sorted(
        c.find(f"{WP}comment_approved").text for c in root.iter(f"{WP}comment")
    )
    assert statuses == ["0", *["1"] * 17, "spam", "trash"]
    site = read_wxr(str(target))
    assert {p.slug for p in site.posts} >= {"caffe-e-community", "bozza-il-te"}


def test_export_then_import_into_an_empty_blog_round_trips(
    app, runner, wxr_file, tmp_path, empty_database_url
):
    import_file(runner, wxr_file)
    exported = tmp_path / "roundtrip.xml"
    assert runner.invoke(args=["export-wxr", str(exported)]).exit_code == 0
    with app.app_context():
        original = content()
    fresh = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": empty_database_url}
    )
    try:
        with fresh.app_context():
            upgrade_database()
        import_file(fresh.test_cli_runner(), exported)
        with fresh.app_context():
            assert content() == original
    finally:
        with fresh.app_context():
            db.engine.dispose()
    # Importing our own export into the blog it came from adds nothing.
    with app.app_context():
        before = snapshot()
    output = import_file(runner, exported)
    counts = [line for line in output.splitlines() if "added" in line]
    assert counts and all(" 0 added" in line for line in counts), output
    with app.app_context():
        db.session.expire_all()
        assert snapshot() == before


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><rss>&x;</rss>',
            "Refused unsafe XML",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/x.dtd">'
            "<rss><channel><title>Con DTD</title></channel></rss>",
            "Refused unsafe XML",
        ),
        ("<rss><channel><title>Solo RSS</title></channel></rss>", "Not a WordPress"),
        ("<rss><channel>", "Not well-formed XML"),
        ("", "The file is empty"),
        (" \n", "The file is empty"),
        (gzip.compress(b"<rss/>"), "The file is gzip-compressed; unpack it"),
        (b"PK\x03\x04 rest of a zip", "The file is a zip archive"),
    ],
)
def test_unsafe_or_foreign_files_are_refused_with_nothing_imported(
    app, runner, tmp_path, document, reason
):
    path = tmp_path / "bad.xml"
    path.write_bytes(document if isinstance(document, bytes) else document.encode())
    with app.app_context():
        before = snapshot()
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {reason}")
    with app.app_context():
        assert snapshot() == before


def test_blank_lines_before_the_declaration_and_control_characters_are_mended(
    app, runner, tmp_path
):
    # Two faults of real exports, each of which made the whole file unreadable:
    # a plugin's blank lines before <?xml, a control character in a comment.
    path = tmp_path / "export.xml"
    text = "\n\n  \n" + WXR.replace("è proprio così", "è\x0b proprio\x1f così")
    path.write_bytes(text.encode("utf-8"))
    import_file(runner, path)
    with app.app_context():
        zoe = imported_comments()["Zoë Łukasz", "01 08:00"]
        assert "«Ottimo» articolo — è proprio così." in zoe.content_html


def test_a_run_of_control_characters_longer_than_a_read_is_no_end_of_file(
    app, tmp_path
):
    path = tmp_path / "export.xml"
    path.write_bytes(WXR.replace("è proprio così", "\x0b" * 140_000).encode())
    with app.app_context():
        assert read_wxr(str(path)).posts


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16"])
def test_a_utf16_export_is_read_as_it_is(app, tmp_path, encoding):
    # Without a BOM (utf-16-le) or with one: no byte of it is dropped.
    path, plain = tmp_path / "export.xml", tmp_path / "utf8.xml"
    text = WXR.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path.write_bytes(text.encode(encoding))
    plain.write_bytes(WXR.encode())
    with app.app_context():
        titles = [post.title for post in read_wxr(str(plain)).posts]
        assert [post.title for post in read_wxr(str(path)).posts] == titles


def test_ping_excerpt_drops_wordpress_ellipses_and_tags():
    assert ping_excerpt("[&#8230;] un <b>estratto</b> [&#8230;]") == "un estratto"
    assert ping_excerpt("[...] altro […]") == "altro"


def test_an_existing_account_is_matched_as_sign_in_matches_it(app, runner, wxr_file):
    with app.app_context():
        db.session.add(Author(username="Mario", slug="mario", display_name="Mario"))
        db.session.commit()
    import_file(runner, wxr_file)
    with app.app_context():
        names = db.session.scalars(
            select(Author.username).where(func.lower(Author.username) == "mario")
        ).all()
        post = db.session.scalar(select(Post).where(Post.slug == "caffe-e-community"))
        assert names == ["Mario"]  # no second "mario" that sign-in could not tell apart
        assert post.author.username == "Mario"


def test_a_drafts_date_comes_back_the_same_moment(app, runner, tmp_path):
    written = datetime(2026, 7, 1, 8, 30)  # UTC; 10:30 in Rome
    add_post(app, "bozza-estiva", None, title="Bozza estiva")
    with app.app_context():
        draft = db.session.scalar(select(Post).where(Post.slug == "bozza-estiva"))
        draft.created_at = written
        db.session.commit()
    target = tmp_path / "out.xml"
    assert runner.invoke(args=["export-wxr", str(target)]).exit_code == 0
    [back] = [p for p in read_wxr(str(target)).posts if p.slug == "bozza-estiva"]
    assert back.status == "draft"
    assert back.published_at == written


def test_an_imported_post_keeps_its_guid_in_feeds_and_exports(
    app, client, runner, wxr_file, tmp_path
):
    # Feed readers know an entry by its id: a moved blog whose entries took new
    # ids would show every imported post again as unread.
    import_file(runner, wxr_file)
    ids = {
        item.findtext("link"): item.findtext("guid")
        for item in ElementTree.fromstring(client.get("/feed/").data).iter("item")
    }
    site = app.config["SITE_URL"]
    assert ids[f"{site}/caffe-e-community/"] == "https://caffe.example.org/?p=42"
    seeded = "chi-e-e-chi-non-e-il-community-manager"
    with app.app_context():
        own_id = db.session.scalar(select(Post.id).where(Post.slug == seeded))
    assert ids[f"{site}/{seeded}/"] == f"{site}/?p={own_id}"  # its own, as before
    exported = tmp_path / "di-nuovo.xml"
    assert runner.invoke(args=["export-wxr", str(exported)]).exit_code == 0
    guids = {
        item.findtext("link"): item.findtext("guid")
        for item in ElementTree.parse(exported).getroot().iter("item")
    }
    assert guids[f"{site}/caffe-e-community/"] == "https://caffe.example.org/?p=42"


def test_a_post_of_ours_never_shares_a_guid_with_an_imported_one(
    app, client, runner, tmp_path
):
    # A blog moved in on its old domain: WordPress's post 5 keeps its guid,
    # ?p=5, which is also our own post 5's. Ours takes another, in the feed
    # and in the export alike.
    site = app.config["SITE_URL"]
    with app.app_context():
        ours = db.session.scalar(select(Post).order_by(Post.id))
        ours.published_at = datetime(2030, 1, 1)  # at the top of the feed
        imported = db.session.scalar(select(Post).where(Post.id != ours.id))
        imported.imported_guid = f"{site}/?p={ours.id}"
        db.session.commit()
        clash = imported.imported_guid
    feed = ElementTree.fromstring(client.get("/feed/").data)
    guids = [item.findtext("guid") for item in feed.iter("item")]
    assert guids.count(clash) == 1 and len(set(guids)) == len(guids)
    exported = tmp_path / "export.xml"
    assert runner.invoke(args=["export-wxr", str(exported)]).exit_code == 0
    written = [i.findtext("guid") for i in ElementTree.parse(exported).iter("item")]
    assert written.count(clash) == 1 and len(set(written)) == len(written)
