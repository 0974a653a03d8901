"""A response's row: the addresses its forms post to, worked out once per page."""

from __future__ import annotations

from urllib.parse import quote

from flask import url_for
from helpers_admin import add_comment, log_in, soup
from sqlalchemy import update

from blog.admin.queue import load_comments
from blog.admin.rows import MARKER, id_url, response_rows
from blog.comments.blocklist import block_choices
from blog.extensions import db
from blog.models import Comment, Post


def test_each_row_has_the_addresses_url_for_gives_for_its_response(app):
    parent = add_comment(app, status="approved", author_name="Prima")
    ids = [
        parent,
        add_comment(app, parent_id=parent, author_url="https://esempio.it/"),
        add_comment(app, status="spam", author_ip="2001:db8::7"),
        add_comment(app, status="trash", author_email=""),
        add_comment(app, status="spam", author_email="", author_ip="non un IP"),
    ]
    with app.test_request_context():
        comments = load_comments(ids)
        rows = response_rows(comments, url_for)
        assert [row.c for row in rows] == comments
        for row in rows:
            c = row.c
            assert row.open_url == url_for("admin.comment", comment_id=c.id)
            assert row.action_url == url_for("admin.comment_action", comment_id=c.id)
            assert row.reply_url == url_for("admin.reply_view", comment_id=c.id)
            assert row.edit_url == url_for("admin.edit_view", comment_id=c.id)
            assert row.block_url == url_for("admin.block_view", comment_id=c.id)
            assert row.post_url == url_for("posts.detail", slug=c.post.slug)
            assert row.block_choices == tuple(block_choices(c))
            assert row.can_block == bool(block_choices(c))
        by_id = {row.c.id: row for row in rows}
        assert by_id[ids[1]].parent_url == f"/admin/comments/{parent}"
        assert by_id[parent].parent_url == ""
        assert [by_id[i].can_block for i in ids] == [True, True, True, True, False]


def test_row_labels_and_buttons_follow_the_status():
    rows = response_rows(
        [
            transient(1, "pending", "comment"),
            transient(2, "approved", "pingback"),
            transient(3, "spam", "webmention"),
            transient(4, "trash", "comment"),
        ],
        fake_url_for([]),
    )
    assert [(r.status_label, r.type_label) for r in rows] == [
        ("In attesa", "Commento"),
        ("Approvato", "Pingback"),
        ("Spam", "Webmention"),
        ("Cestino", "Commento"),
    ]
    assert [r.buttons for r in rows] == [
        (("approve", "Approva"), ("spam", "Spam"), ("trash", "Cestino")),
        (("unapprove", "Non approvare"), ("spam", "Spam"), ("trash", "Cestino")),
        (("unspam", "Non è spam"), ("delete", "Elimina definitivamente")),
        (("restore", "Ripristina"), ("delete", "Elimina definitivamente")),
    ]


def test_a_page_asks_url_for_the_same_few_times_however_many_rows():
    calls: list[tuple] = []
    slugs = ["uno", "due"]
    comments = [transient(n, "pending", "comment", slugs[n % 2]) for n in range(1, 41)]
    rows = response_rows(comments, fake_url_for(calls))
    # Five per-response addresses, then one per post.
    assert len(calls) == 5 + len(slugs)
    assert rows[6].action_url == "/admin/comments/7/action"
    assert rows[6].post_url == "/due/"
    assert rows[39].open_url == "/admin/comments/40"


def test_an_address_holding_the_marker_elsewhere_is_asked_for_each_id():
    calls: list[tuple] = []
    mounted = fake_url_for(calls, prefix=f"/blog{MARKER}")
    address = id_url(mounted, "admin.comment_action")
    assert address(12) == f"/blog{MARKER}/admin/comments/12/action"
    assert address(MARKER) == f"/blog{MARKER}/admin/comments/{MARKER}/action"
    assert [c[1] for c in calls] == [MARKER, 12, MARKER]


def fake_url_for(calls: list[tuple], prefix: str = ""):
    """A stand-in for Flask's url_for over the admin's addresses, noting calls."""
    paths = {
        "admin.comment": "/admin/comments/{}",
        "admin.comment_action": "/admin/comments/{}/action",
        "admin.reply_view": "/admin/comments/{}/reply",
        "admin.edit_view": "/admin/comments/{}/edit",
        "admin.block_view": "/admin/comments/{}/block",
        "posts.detail": "/{}/",
    }

    def build(endpoint: str, **values) -> str:
        value = values.get("comment_id", values.get("slug"))
        calls.append((endpoint, value))
        return prefix + paths[endpoint].format(value)

    return build


def transient(ident: int, status: str, kind: str, slug: str = "uno") -> Comment:
    """A response that is not stored, with the fields a row reads."""
    return Comment(
        id=ident,
        status=status,
        type=kind,
        author_email=f"l{ident}@example.com",
        author_url="",
        author_ip="192.0.2.1",
        source_url=None,
        post=Post(slug=slug),
    )


def test_a_kept_row_carries_each_page_its_own_token_and_way_back(app, author_client):
    held = add_comment(app, author_name="Tenuta")
    other = app.test_client()
    assert log_in(other).status_code == 302
    pages = [
        (author_client, "/admin/comments?view=pending"),
        (other, "/admin/comments?view=pending&s=Tenuta"),
        (author_client, "/admin/comments?s=Tenuta"),
    ]
    for client, path in pages:
        page = soup(client.get(path))
        token = page.select_one("#bulk input[name=csrf_token]")["value"]
        row = page.find(id=f"comment-{held}")
        assert {i["value"] for i in row.select("input[name=csrf_token]")} == {token}
        assert {i["value"] for i in row.select("input[name=next]")} == {path}
        edit = row.find("a", string="Modifica rapida")["href"]
        assert edit.endswith(f"&next={quote(path, safe='/')}#modifica-{held}")
    tokens = {
        soup(client.get(path)).select_one("#bulk input[name=csrf_token]")["value"]
        for client, path in pages[:2]
    }
    assert len(tokens) == 2, "two sessions, two tokens"


def test_a_row_shows_at_once_any_change_to_what_it_shows(app, author_client):
    parent = add_comment(app, status="approved", author_name="Genitore")
    held = add_comment(app, parent_id=parent, thread_id=parent, author_name="Prima")

    def row_text() -> str:
        page = soup(author_client.get("/admin/comments?view=pending"))
        return " ".join(page.find(id=f"comment-{held}").get_text().split())

    assert "Prima" in row_text()
    assert "in risposta a Genitore" in row_text()
    # Written around the ORM, as a bulk action or another worker would.
    changes = [
        (update(Comment).where(Comment.id == held).values(author_name="Dopo"), "Dopo"),
        (
            update(Comment)
            .where(Comment.id == held)
            .values(content_html="<p>Testo corretto</p>"),
            "Testo corretto",
        ),
        (
            update(Comment).where(Comment.id == parent).values(author_name="Madre"),
            "in risposta a Madre",
        ),
        (update(Post).values(title="Titolo nuovo"), "su Titolo nuovo"),
    ]
    for statement, shown in changes:
        with app.app_context():
            db.session.execute(statement)
            db.session.commit()
        assert shown in row_text()


def test_a_kept_row_takes_each_page_s_root(app, author_client):
    held = add_comment(app, author_name="Tenuta")
    rooted = author_client.get(
        "/admin/comments?view=pending", environ_overrides={"SCRIPT_NAME": "/altrove"}
    )
    assert f'action="/altrove/admin/comments/{held}/action"' in rooted.get_data(
        as_text=True
    )
    html = author_client.get("/admin/comments?view=pending").get_data(as_text=True)
    assert "/altrove/" not in html
    assert f'action="/admin/comments/{held}/action"' in html
