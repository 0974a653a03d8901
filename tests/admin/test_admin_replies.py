"""Replying from the queue (and approving on the way) and quick edit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from helpers_admin import (
    POST_SLUG,
    add_comment,
    comment_status,
    csrf_from,
    press,
    soup,
)
from helpers_comments import set_status
from sqlalchemy import select, update

from blog.admin.actions import ActionError, reply
from blog.core.settings import current_settings
from blog.extensions import db
from blog.models import Author, Comment

PUBLIC = f"/{POST_SLUG}/"


def get(app, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def replies_to(app, parent_id: int) -> list[Comment]:
    with app.app_context():
        found = db.session.scalars(
            select(Comment).where(Comment.parent_id == parent_id)
        ).all()
        db.session.expunge_all()
        return list(found)


def test_inline_reply_is_published_threaded_and_signed(app, author_client):
    parent = add_comment(app, status="approved", author_name="Mario")
    page = soup(author_client.get("/admin/comments?view=approved"))
    item = page.find(id=f"comment-{parent}")
    assert item.select_one("details summary").get_text() == "Rispondi"
    response = press(author_client, page, "Rispondi", within=item, text="Grazie Mario!")
    assert response.headers["Location"] == "/admin/comments?view=approved"
    [reply] = replies_to(app, parent)
    assert reply.status == "approved"
    assert reply.thread_id == parent
    assert reply.depth == 2
    assert reply.content_html == "<p>Grazie Mario!</p>"
    assert reply.moderation_reason == "scritto dall'autore"
    with app.app_context():
        author = db.session.scalar(select(Author).where(Author.username == "riccardo"))
        assert reply.author_id == author.id
        assert reply.author_name == author.display_name
    public = soup(author_client.get(PUBLIC))
    nested = public.select_one(f"#comment-{parent} .children #comment-{reply.id}")
    assert nested is not None
    assert "by-author" in nested["class"]


def test_replying_to_a_held_comment_approves_it(app, author_client):
    parent = add_comment(app)
    page = soup(author_client.get("/admin/comments?view=pending"))
    item = page.find(id=f"comment-{parent}")
    assert item.select_one("details summary").get_text() == "Approva e rispondi"
    press(author_client, page, "Approva e rispondi", within=item, text="Benvenuto")
    assert comment_status(app, parent) == "approved"
    [reply] = replies_to(app, parent)
    assert reply.status == "approved"
    assert "14 Comments" in author_client.get(PUBLIC).get_data(as_text=True)


def test_a_reply_to_a_reply_stays_in_the_thread(app, author_client):
    top = add_comment(app, status="approved")
    middle = add_comment(app, status="approved", parent_id=top, thread_id=top, depth=2)
    page = soup(author_client.get(f"/admin/comments/{middle}"))
    press(author_client, page, "Rispondi", text="Terzo livello")
    [reply] = replies_to(app, middle)
    assert (reply.thread_id, reply.depth) == (top, 3)


def test_reply_text_is_sanitised(app, author_client):
    parent = add_comment(app, status="approved")
    page = soup(author_client.get(f"/admin/comments/{parent}"))
    press(
        author_client,
        page,
        "Rispondi",
        text='<script>alert(1)</script><a href="javascript:x" onclick="y">ok</a>',
    )
    [reply] = replies_to(app, parent)
    assert "<script" not in reply.content_html
    assert "onclick" not in reply.content_html
    assert "javascript:" not in reply.content_html


def test_an_empty_reply_is_refused_with_a_message(app, author_client):
    parent = add_comment(app)
    page = soup(author_client.get(f"/admin/comments/{parent}"))
    response = press(author_client, page, "Approva e rispondi", text="   ")
    assert response.status_code == 400
    assert "Scrivi il testo della risposta." in response.get_data(as_text=True)
    # Announced: the field takes the focus and names its error.
    area = soup(response).find("textarea", attrs={"name": "text"})
    assert area.has_attr("autofocus") and area["aria-invalid"] == "true"
    error = soup(response).find(id=area["aria-describedby"])
    assert error.get_text() == "Scrivi il testo della risposta."
    assert replies_to(app, parent) == []
    assert comment_status(app, parent) == "pending"


def test_no_reply_to_spam(app, author_client):
    spam = add_comment(app, status="spam")
    page = soup(author_client.get(f"/admin/comments/{spam}"))
    assert page.find("button", string="Rispondi") is None
    token = csrf_from(author_client, f"/admin/comments/{spam}")
    response = author_client.post(
        f"/admin/comments/{spam}/reply", data={"text": "Ciao", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "spam o nel cestino" in response.get_data(as_text=True)
    assert replies_to(app, spam) == []


def test_quick_edit_changes_fields_and_resanitises(app, author_client):
    comment_id = add_comment(app, status="approved")
    url = "/admin/comments?view=approved&page=1"
    row = soup(author_client.get(url)).find(id=f"comment-{comment_id}")
    # The queue row links to the form, open on the response's own page.
    page = soup(author_client.get(row.find("a", string="Modifica rapida")["href"]))
    item = page.find(id=f"modifica-{comment_id}")
    assert item.has_attr("open")
    assert item.find("input", attrs={"name": "author_name"})["value"] == "Lettore"
    response = press(
        author_client,
        page,
        "Aggiorna commento",
        within=item,
        author_name="Lett\r\nrice\u202e ",
        author_email="nuova@example.com",
        author_url="https://nuova.example/",
        text='Corretto <b>bene</b> <img src=x onerror="alert(1)">',
    )
    assert response.headers["Location"] == url  # back to the queue page
    comment = get(app, comment_id)
    assert comment.author_name == "Lett rice"  # one line, as the readers' form
    assert comment.author_email == "nuova@example.com"
    assert comment.author_url == "https://nuova.example/"
    assert comment.content.startswith("Corretto <b>bene</b>")
    assert "<b>bene</b>" in comment.content_html
    assert "<img" not in comment.content_html
    assert "Lett rice" in author_client.get(PUBLIC).get_data(as_text=True)


def test_quick_edit_with_a_bad_email_keeps_what_was_typed(app, author_client):
    comment_id = add_comment(app)
    page = soup(author_client.get(f"/admin/comments/{comment_id}"))
    response = press(
        author_client,
        page,
        "Aggiorna commento",
        author_name="Nome nuovo",
        author_email="non-una-email",
        text="Testo nuovo",
    )
    assert response.status_code == 400
    result = soup(response)
    assert "Indirizzo email non valido." in result.get_text()
    form = result.find("form", action=f"/admin/comments/{comment_id}/edit")
    email = form.find("input", attrs={"name": "author_email"})
    assert email.has_attr("autofocus") and email["aria-invalid"] == "true"
    said = result.find(id=email["aria-describedby"]).get_text()
    assert said == "Indirizzo email non valido."
    assert not form.find("input", attrs={"name": "author_name"}).has_attr("autofocus")
    assert form.find("input", attrs={"name": "author_name"})["value"] == "Nome nuovo"
    assert form.find("textarea", attrs={"name": "text"}).get_text() == "Testo nuovo"
    assert result.select_one("details.inline-form[open]") is not None
    assert get(app, comment_id).author_name == "Lettore"


def test_a_queue_row_holds_one_form_for_its_buttons_and_links_to_the_rest(
    app, author_client
):
    comment_id = add_comment(app)
    queue = "/admin/comments?view=pending"
    row = soup(author_client.get(queue)).find(id=f"comment-{comment_id}")
    buttons = row.select("form button[name=action]")
    assert [b["value"] for b in buttons] == ["approve", "spam", "trash"]
    assert len({id(b.find_parent("form")) for b in buttons}) == 1
    # The reply stays in the row; quick edit and block are a link away.
    forms = row.find_all("form")
    assert [f["action"].rsplit("/", 1)[1] for f in forms] == ["action", "reply"]
    links = {a.get_text(): a["href"] for a in row.select(".row-actions a")}
    assert set(links) == {"Apri", "Modifica rapida", "Blocca"}
    for name in ("Modifica rapida", "Blocca"):
        query = parse_qs(urlsplit(links[name]).query)
        assert query["next"] == [queue]  # its form sends the author back here


def test_the_responses_page_leads_back_to_the_queue_page_it_came_from(
    app, author_client
):
    comment_id = add_comment(app)
    queue = "/admin/comments?view=pending&page=1"
    row = soup(author_client.get(queue)).find(id=f"comment-{comment_id}")
    page = soup(author_client.get(row.find("a", string="Blocca")["href"]))
    assert page.find("a", string="← Torna ai commenti")["href"] == queue
    # Without a way back, the queue's first page.
    page = soup(author_client.get(f"/admin/comments/{comment_id}"))
    assert page.find("a", string="← Torna ai commenti")["href"] == "/admin/comments"


def _delete_for_good(app, comment_id: int) -> None:
    with app.app_context():
        db.session.delete(db.session.get(Comment, comment_id))
        db.session.commit()


@pytest.mark.parametrize(
    ("meanwhile", "form", "status"),
    [
        (_delete_for_good, "edit", 404),
        (lambda app, comment_id: set_status(app, comment_id, "spam"), "reply", 400),
    ],
    ids=["edit-of-a-deleted-one", "reply-to-one-marked-spam"],
)
def test_a_form_for_a_response_changed_meanwhile_gives_back_its_text(
    app, author_client, meanwhile, form, status
):
    comment_id = add_comment(app)
    token = csrf_from(author_client, f"/admin/comments/{comment_id}")
    meanwhile(app, comment_id)
    response = author_client.post(
        f"/admin/comments/{comment_id}/{form}",
        data={"text": "Un testo scritto con cura", "csrf_token": token},
    )
    assert response.status_code == status
    kept = [a.get_text().strip() for a in soup(response).select("textarea[readonly]")]
    assert kept == ["Un testo scritto con cura"]


def test_a_reply_does_not_undo_a_spam_verdict_given_meanwhile(app):
    parent_id = add_comment(app)  # held
    with app.app_context():
        parent = db.session.get(Comment, parent_id)  # read as held
        author = db.session.scalar(select(Author))
        with db.engine.begin() as other:  # another moderator: "Spam"
            other.execute(
                update(Comment).where(Comment.id == parent_id).values(status="spam")
            )
        with pytest.raises(ActionError, match="spam o nel cestino"):
            reply(parent, author, "Grazie!", current_settings())
        db.session.rollback()
    assert comment_status(app, parent_id) == "spam"
    assert replies_to(app, parent_id) == []
