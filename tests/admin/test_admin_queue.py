"""The moderation queue: views, counts, search, filters, actions, bulk, place kept."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

import pytest
from helpers_admin import (
    POST_SLUG,
    add_comment,
    comment_status,
    form_data,
    page_version,
    post_id,
    press,
    press_and_confirm,
    soup,
)
from helpers_comments import send_comment
from sqlalchemy import delete, func, select, update

from blog.admin import actions
from blog.admin.actions import apply_action, empty, newest_response_id
from blog.admin.queue import status_counts
from blog.comments import submission
from blog.comments.operations import NewResponse, add_response
from blog.extensions import db
from blog.models import Comment, OutboxMessage, Post

PUBLIC = f"/{POST_SLUG}/"
BASE = datetime(2030, 5, 1, 12, 0)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def row(page, comment_id: int):
    found = page.find(id=f"comment-{comment_id}")
    assert found is not None, f"comment {comment_id} not on the page"
    return found


def row_ids(page) -> list[int]:
    return [int(li["id"].split("-")[1]) for li in page.select("ol.queue > li")]


def tab_texts(page) -> list[str]:
    return [re.sub(r"\s+", " ", a.get_text()).strip() for a in page.select(".views a")]


def test_the_admin_menu_is_in_the_banner_and_marks_the_page(author_client):
    # "Vai al contenuto" then lands on the page's own content, not the menu.
    page = soup(author_client.get("/admin/posts"))
    menu = page.select_one("header.site-header nav.admin-nav")
    assert menu is not None and page.select_one("main nav.admin-nav") is None
    assert [a.get_text() for a in menu.select("a[aria-current=page]")] == ["Articoli"]


def test_tabs_show_live_counts_and_the_nav_badge(app, author_client):
    held = [add_comment(app, created_at=at(n)) for n in range(3)]
    add_comment(app, status="spam")
    add_comment(app, status="spam")
    add_comment(app, status="trash")
    page = soup(author_client.get("/admin/comments"))
    assert tab_texts(page) == [
        "Tutti",
        "In attesa (3)",
        "Approvati",
        "Spam (2)",
        "Cestino (1)",
    ]
    assert (
        page.select_one(".admin-nav .badge").get_text() == "3 in attesa di moderazione"
    )
    dashboard = soup(author_client.get("/admin/"))
    assert dashboard.select_one(".count-pending").get_text() == "3"
    assert dashboard.select_one(".count-approved").get_text() == "12"
    latest = [a["href"] for a in dashboard.select(".latest li > a")]
    assert latest[:3] == [f"/admin/comments/{i}" for i in reversed(held)]


def test_views_split_by_status_newest_first(app, author_client):
    old = add_comment(app, created_at=at(1))
    new = add_comment(app, created_at=at(2))
    spam = add_comment(app, status="spam", created_at=at(3))
    trash = add_comment(app, status="trash", created_at=at(4))
    pending = row_ids(soup(author_client.get("/admin/comments?view=pending")))
    assert pending == [new, old]
    everything = row_ids(soup(author_client.get("/admin/comments")))
    assert everything[:2] == [new, old]
    assert spam not in everything and trash not in everything
    assert len(everything) == 14  # 12 seed responses + 2 pending
    assert row_ids(soup(author_client.get("/admin/comments?view=spam"))) == [spam]
    assert row_ids(soup(author_client.get("/admin/comments?view=trash"))) == [trash]


def test_a_row_shows_everything_the_author_needs(app, author_client):
    parent = add_comment(app, status="approved", author_name="Mario")
    child = add_comment(
        app,
        parent_id=parent,
        depth=2,
        author_name="Anna <b>Rossi</b>",
        author_email="anna@example.com",
        author_url="https://anna.example/",
        author_ip="203.0.113.5",
        content="Testo <script>x</script>",
        content_html="<p>Testo &lt;script&gt;x&lt;/script&gt;</p>",
        moderation_reason="3 link (limite 2)",
        created_at=at(7),
    )
    html = author_client.get("/admin/comments?view=pending").get_data(as_text=True)
    item = row(soup(html), child)
    text = item.get_text(" ", strip=True)
    for expected in (
        "Anna <b>Rossi</b>",
        "anna@example.com",
        "https://anna.example/",
        "203.0.113.5",
        "Testo <script>x</script>",
        "Chi è e chi NON è il Community Manager?!",
        "in risposta a Mario",
        "Commento",
        "3 link (limite 2)",
    ):
        assert expected in text
    assert "<script>x" not in html
    assert item.find("time")["datetime"] == at(7).isoformat() + "Z"  # stored UTC
    assert "1 maggio 2030 alle 14:07" in text  # shown in Europe/Rome (UTC+2)


def test_a_long_text_is_folded_under_its_start_in_the_queue(app, author_client):
    """A row of a spam wave shows its first 300 characters; the whole text is
    folded under them, and shown whole on the response's own page."""
    long_text = "parola " * 400
    long_id = add_comment(
        app, content=long_text, content_html=f"<p>{long_text.strip()}</p>"
    )
    short_id = add_comment(app, content="Breve", content_html="<p>Breve</p>")
    page = soup(author_client.get("/admin/comments?view=pending"))
    folded = row(page, long_id)
    preview = folded.select_one(".response-preview").get_text()
    assert preview.startswith("parola parola") and preview.endswith(" …")
    assert len(preview) <= 302
    fold = folded.select_one("details.long-text")
    assert not fold.has_attr("open")
    assert fold.summary.get_text() == "Mostra tutto il testo"
    assert fold.select_one(".response-text").get_text() == long_text.strip()
    whole = row(page, short_id)
    assert whole.select_one("details.long-text") is None
    assert whole.select_one(".response-text").get_text() == "Breve"
    own = soup(author_client.get(f"/admin/comments/{long_id}"))
    assert own.select_one("details.long-text") is None
    assert own.select_one(".response-text").get_text() == long_text.strip()


def test_row_buttons_use_the_italian_labels(app, author_client):
    ids = {s: add_comment(app, status=s) for s in ("pending", "spam", "trash")}
    ids["approved"] = add_comment(app, status="approved")

    def labels(view, comment_id):
        page = soup(author_client.get(f"/admin/comments?view={view}"))
        return [
            b.get_text() for b in row(page, comment_id).select(".row-actions button")
        ]

    assert labels("pending", ids["pending"]) == ["Approva", "Spam", "Cestino"]
    assert labels("approved", ids["approved"]) == ["Non approvare", "Spam", "Cestino"]
    assert labels("spam", ids["spam"]) == ["Non è spam", "Elimina definitivamente"]
    assert labels("trash", ids["trash"]) == ["Ripristina", "Elimina definitivamente"]
    spam_page = soup(author_client.get("/admin/comments?view=spam"))
    assert spam_page.find("button", string="Svuota lo spam") is not None
    trash_page = soup(author_client.get("/admin/comments?view=trash"))
    assert trash_page.find("button", string="Svuota il cestino") is not None


def test_search_covers_author_email_url_ip_and_text(app, author_client):
    target = add_comment(
        app,
        author_name="Zeno Cosini",
        author_email="zeno@trieste.example",
        author_url="https://coscienza.example/",
        author_ip="198.51.100.77",
        content="L'ultima sigaretta",
    )
    add_comment(app, author_name="Altro")
    for term in (
        "zeno cos",
        "TRIESTE",
        "coscienza",
        "198.51.100.77",
        "ultima sigaretta",
    ):
        page = soup(author_client.get("/admin/comments", query_string={"s": term}))
        assert row_ids(page) == [target], term
    # LIKE wildcards are searched for literally.
    add_comment(app, content="codice xbq9z")
    literal = add_comment(app, content="codice x_q9z")
    page = soup(author_client.get("/admin/comments", query_string={"s": "x_q9"}))
    assert row_ids(page) == [literal]
    add_comment(app, content="codice x/q9z")
    slash = add_comment(app, content="codice x/%q9z")
    page = soup(author_client.get("/admin/comments", query_string={"s": "x/%q9"}))
    assert row_ids(page) == [slash]


def test_search_folds_accented_capitals_too(app, author_client):
    # SQLite's ILIKE folds ASCII letters only.
    target = add_comment(app, author_name="Élodie Perché", content="Zùccherò")
    for term in ("élodie", "PERCHÉ", "zÙCCHERÒ"):
        page = soup(author_client.get("/admin/comments", query_string={"s": term}))
        assert row_ids(page) == [target], term


def test_the_search_box_takes_what_the_queue_searches_for(app, author_client):
    # 700 pasted accented letters made a request line gunicorn refuses in
    # English (414); the queue reads the first 200 characters anyway.
    target = add_comment(app, content="è" * 200)
    page = soup(author_client.get("/admin/comments"))
    assert page.select_one("#queue-search")["maxlength"] == "200"
    found = soup(author_client.get("/admin/comments", query_string={"s": "è" * 250}))
    assert row_ids(found) == [target]


def test_filters_by_type_and_by_post(app, author_client):
    ping = add_comment(
        app, type="pingback", source_url="https://ping.example/a", created_at=at(5)
    )
    other_post = post_id(app, "cinque-regole-per-un-blog-aziendale")
    assert other_post is not None
    elsewhere = add_comment(app, post_id=other_post, created_at=at(6))
    page = soup(author_client.get("/admin/comments?type=pingback&view=pending"))
    assert row_ids(page) == [ping]
    page = soup(author_client.get(f"/admin/comments?post={other_post}"))
    assert row_ids(page) == [elsewhere]
    assert page.select_one("#queue-post option[selected]")["value"] == str(other_post)


def test_pages_of_twenty_with_the_total_from_the_counts(app, author_client):
    ids = [add_comment(app, created_at=at(n)) for n in range(25)]
    first = soup(author_client.get("/admin/comments?view=pending"))
    assert row_ids(first) == ids[::-1][:20]
    assert "Pagina 1 di 2" in first.select_one(".pager").get_text()
    second = soup(author_client.get(first.select_one(".pager a[rel=next]")["href"]))
    assert row_ids(second) == ids[::-1][20:]
    past = author_client.get("/admin/comments?view=pending&page=9")
    assert past.headers["Location"] == "/admin/comments?view=pending&page=2"
    # A search has no total: its first page, in one step.
    searched = author_client.get("/admin/comments?s=nessuno&page=30")
    assert searched.headers["Location"] == "/admin/comments?s=nessuno"
    assert author_client.get("/admin/comments?page=abc").status_code == 200


def test_the_author_picks_how_many_rows_a_page_shows(app, author_client):
    """A wave of thousands is cleared 200 rows a page (WordPress's screen
    options); the choice stays through the pages, tabs and actions."""
    ids = [add_comment(app, created_at=at(n)) for n in range(60)]
    form = soup(author_client.get("/admin/comments?view=pending")).select_one(
        "form.filters"
    )
    assert [o.get_text() for o in form.select("#queue-per-page option")] == [
        "20",
        "50",
        "100",
        "200",
    ]
    data = form_data(form)
    assert data["n"] == "20"
    data["n"] = "50"
    page = soup(author_client.get(form["action"], query_string=data))
    assert row_ids(page) == ids[::-1][:50]
    assert "Pagina 1 di 2" in page.select_one(".pager").get_text()
    assert page.select_one("#queue-per-page option[selected]").get_text() == "50"
    following = page.select_one(".pager a[rel=next]")["href"]
    assert row_ids(soup(author_client.get(following))) == ids[::-1][50:]
    tab = page.select_one(".views a[href*='view=spam']")["href"]
    assert "n=50" in tab
    bulk = page.find("form", id="bulk")
    data = form_data(bulk) | {"ids": [str(ids[-1])], "action": "spam"}
    landed = author_client.post(bulk["action"], data=data).headers["Location"]
    assert row_ids(soup(author_client.get(landed))) == ids[::-1][1:51]
    # Emptying the spam comes back with as many rows a page.
    empty = soup(author_client.get("/admin/comments?view=spam&n=50&s=x"))
    assert empty.select_one("form.empty input[name=next]")["value"] == (
        "/admin/comments?view=spam&n=50"
    )
    # Anything but the numbers offered is the default.
    for odd in ("7", "201", "1000000", "abc", "-20"):
        page = soup(author_client.get(f"/admin/comments?view=pending&n={odd}"))
        assert len(row_ids(page)) == 20, odd


def test_clearing_the_last_page_lands_on_the_page_before(app, author_client):
    ids = [add_comment(app, created_at=at(n)) for n in range(21)]
    url = "/admin/comments?view=pending&page=2"
    page = soup(author_client.get(url))
    assert row_ids(page) == [ids[0]]
    response = press(author_client, page, "Approva", within=row(page, ids[0]))
    landed = author_client.get(response.headers["Location"], follow_redirects=True)
    assert landed.status_code == 200
    assert row_ids(soup(landed)) == ids[::-1][:20]


def test_a_page_shown_before_spam_or_trash_cannot_publish_the_response(
    app, author_client
):
    comment_id = add_comment(app)
    stale = soup(author_client.get("/admin/comments?view=pending"))
    for status in ("spam", "trash"):
        with app.app_context():
            db.session.get(Comment, comment_id).status = status
            db.session.commit()
        press(author_client, stale, "Approva", within=row(stale, comment_id))
        assert comment_status(app, comment_id) == status


def test_approve_from_the_row_updates_the_public_page_and_counts(app, author_client):
    comment_id = add_comment(app, content="Bel post!", content_html="<p>Bel post!</p>")
    reader = app.test_client()  # anonymous: served from the page cache
    assert f'id="comment-{comment_id}"' not in reader.get(PUBLIC).get_data(as_text=True)
    url = "/admin/comments?view=pending&s=Bel"
    page = soup(author_client.get(url))
    response = press(author_client, page, "Approva", within=row(page, comment_id))
    assert response.status_code == 302
    assert response.headers["Location"] == url  # the list keeps its place
    assert comment_status(app, comment_id) == "approved"
    public = reader.get(PUBLIC).get_data(as_text=True)
    assert f'id="comment-{comment_id}"' in public
    assert "13 Comments" in public
    after = soup(author_client.get(url))
    assert "1 risposta approvata." in after.select_one(".notice").get_text()
    assert after.select_one(".admin-nav .badge") is None


def test_actions_are_idempotent(app, author_client):
    comment_id = add_comment(app)
    page = soup(author_client.get("/admin/comments?view=pending"))
    form = row(page, comment_id).find("button", string="Approva").find_parent("form")
    data = form_data(form, form.find("button", string="Approva"))
    before = page_version(app)
    author_client.post(form["action"], data=data)
    approved = page_version(app)
    second = author_client.post(form["action"], data=data)
    assert comment_status(app, comment_id) == "approved"
    assert approved != before
    assert page_version(app) == approved  # a repeat changes nothing, not even the pages
    assert second.status_code == 302
    assert "Nessuna modifica." in author_client.get("/admin/").get_data(as_text=True)


def test_trash_and_spam_come_back_to_where_they_were(app, author_client):
    approved = add_comment(app, status="approved")
    pending = add_comment(app)
    page = soup(author_client.get("/admin/comments"))
    press(author_client, page, "Cestino", within=row(page, approved))
    press(author_client, page, "Spam", within=row(page, pending))
    assert comment_status(app, approved) == "trash"
    assert comment_status(app, pending) == "spam"
    trash = soup(author_client.get("/admin/comments?view=trash"))
    press(author_client, trash, "Ripristina", within=row(trash, approved))
    spam = soup(author_client.get("/admin/comments?view=spam"))
    press(author_client, spam, "Non è spam", within=row(spam, pending))
    assert comment_status(app, approved) == "approved"
    assert comment_status(app, pending) == "pending"


def test_unapprove_holds_an_approved_comment(app, author_client):
    comment_id = add_comment(app, status="approved")
    page = soup(author_client.get("/admin/comments?view=approved"))
    press(author_client, page, "Non approvare", within=row(page, comment_id))
    assert comment_status(app, comment_id) == "pending"
    assert "12 Comments" in author_client.get(PUBLIC).get_data(as_text=True)


def test_delete_for_good_only_from_spam_or_trash(app, author_client):
    spam = add_comment(app, status="spam")
    pending = add_comment(app)
    page = soup(author_client.get("/admin/comments?view=spam"))
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    press_and_confirm(
        author_client, page, "Elimina definitivamente", within=row(page, spam)
    )
    assert comment_status(app, spam) is None
    # A forged "delete" on a pending comment is ignored rather than obeyed.
    author_client.post(
        f"/admin/comments/{pending}/action",
        data={"action": "delete", "csrf_token": token},
    )
    assert comment_status(app, pending) == "pending"


def test_a_deletion_for_good_asks_first_and_cancelling_keeps_all(app, author_client):
    spam = add_comment(app, status="spam")
    page = soup(author_client.get("/admin/comments?view=spam"))
    asked = press(
        author_client, page, "Elimina definitivamente", within=row(page, spam)
    )
    assert asked.status_code == 200
    confirmation = soup(asked)
    question = confirmation.select_one("section.confirm h1")
    assert question.get_text() == "Eliminare definitivamente questa risposta?"
    assert question.has_attr("autofocus")  # read first; Enter deletes nothing
    assert comment_status(app, spam) == "spam"
    cancel = confirmation.select_one("section.confirm a")
    assert (cancel.get_text(), cancel["href"]) == (
        "Annulla",
        "/admin/comments?view=spam",
    )
    page = soup(author_client.get("/admin/comments?view=spam"))
    asked = soup(press(author_client, page, "Svuota lo spam"))
    assert "Svuotare lo spam?" in asked.select_one("section.confirm h1").get_text()
    assert comment_status(app, spam) == "spam"


def test_bulk_actions_use_the_checked_rows(app, author_client):
    first, second, third = (add_comment(app, created_at=at(n)) for n in range(3))
    page = soup(author_client.get("/admin/comments?view=pending&page=1"))
    bulk = page.find("form", id="bulk")
    data = form_data(bulk)
    data["ids"] = [str(first), str(third)]
    data["action"] = "spam"
    labels = [o.get_text() for o in bulk.select("select[name=action] option")]
    assert labels == ["Scegli un'azione", "Approva", "Spam", "Cestino"]
    # Every checkbox belongs to the bulk form, though it sits in its row.
    assert {box["form"] for box in page.select("input[name=ids]")} == {"bulk"}
    response = author_client.post(bulk["action"], data=data)
    assert response.headers["Location"] == "/admin/comments?view=pending&page=1"
    assert [comment_status(app, i) for i in (first, second, third)] == [
        "spam",
        "pending",
        "spam",
    ]


def test_the_menu_under_the_rows_applies_to_the_same_ticked_rows(app, author_client):
    first, second, third = (add_comment(app, created_at=at(n)) for n in range(3))
    page = soup(author_client.get("/admin/comments?view=pending"))
    below = page.select_one(".bulk-below")
    assert below.find_previous("ol", class_="queue") is not None
    assert {c["form"] for c in below.select("select, button")} == {"bulk"}
    menu, button = below.select_one("select"), below.select_one("button")
    top = form_data(page.find(id="bulk"))

    def send(ids: list[int], above: str, under: str, pressed_below: bool):
        data = top | {
            "ids": [str(i) for i in ids],
            "action": above,
            menu["name"]: under,
        }
        if pressed_below:  # the button says which menu is its own
            data[button["name"]] = button["value"]
        response = author_client.post("/admin/comments/bulk", data=data)
        return author_client.get(response.headers["Location"]).get_data(as_text=True)

    # The top menu still on another choice: the button pressed decides.
    send([second], "approve", "spam", pressed_below=True)
    assert [comment_status(app, i) for i in (first, second)] == ["pending", "spam"]
    # Enter in a ticked box presses the top button: two different choices are
    # refused, not guessed.
    said = send([first], "approve", "spam", pressed_below=False)
    assert "I due menu delle azioni di gruppo dicono cose diverse" in said
    assert comment_status(app, first) == "pending"
    # One menu set, whichever: that one.
    send([first], "", "trash", pressed_below=False)
    send([third], "approve", "", pressed_below=False)
    assert [comment_status(app, i) for i in (first, third)] == ["trash", "approved"]


def test_bulk_without_a_selection_says_so(app, author_client):
    add_comment(app)
    page = soup(author_client.get("/admin/comments?view=pending"))
    data = form_data(page.find(id="bulk")) | {"action": "spam"}
    response = author_client.post("/admin/comments/bulk", data=data)
    assert response.status_code == 302
    followed = author_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Seleziona almeno un commento." in followed


def test_a_response_the_author_moved_says_so_where_the_rules_reason_was(
    app, author_client
):
    held = add_comment(app, content="Compra ora", moderation_reason="3 link")
    page = soup(author_client.get("/admin/comments?view=pending"))
    data = form_data(page.find(id="bulk")) | {"ids": [str(held)], "action": "spam"}
    author_client.post("/admin/comments/bulk", data=data)
    page = soup(author_client.get("/admin/comments?view=spam"))
    reason = page.find(id=f"comment-{held}").select_one(".reason").get_text()
    assert reason == "Motivo: segnata come spam dall'autore"


def test_bulk_starts_on_no_action_so_applica_alone_changes_nothing(app, author_client):
    # Ticking a spam row and pressing "Applica" approved (and published) it
    # while the menu started on "Approva".
    spam = add_comment(app, content="Compra ora http://spam.example")
    page = soup(author_client.get("/admin/comments?view=pending"))
    assert page.select_one("#bulk-action option[selected]")["value"] == ""
    data = form_data(page.find(id="bulk")) | {"ids": [str(spam)]}
    response = author_client.post("/admin/comments/bulk", data=data)
    followed = author_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Scegli un&#39;azione da applicare." in followed
    # Read out on arrival, not left for the reader to find.
    said = soup(followed).select_one(".notice-error")
    assert said["role"] == "alert" and said.has_attr("autofocus")
    assert comment_status(app, spam) == "pending"


def test_empty_spam_deletes_only_spam(app, author_client):
    spams = [add_comment(app, status="spam") for _ in range(3)]
    trash = add_comment(app, status="trash")
    page = soup(author_client.get("/admin/comments?view=spam"))
    done = press_and_confirm(author_client, page, "Svuota lo spam")
    said = soup(author_client.get(done.headers["Location"])).select_one(".notice")
    assert said.get_text() == "3 risposte eliminate definitivamente."
    assert [comment_status(app, i) for i in spams] == [None, None, None]
    assert comment_status(app, trash) == "trash"
    page = soup(author_client.get("/admin/comments?view=spam"))
    assert "Spam (0)" in tab_texts(page)
    assert page.find("button", string="Svuota lo spam") is None


def test_emptying_keeps_what_arrived_after_the_page_was_shown(app, author_client):
    shown = add_comment(app, status="spam")
    page = soup(author_client.get("/admin/comments?view=spam"))
    late = add_comment(app, status="spam")
    press_and_confirm(author_client, page, "Svuota lo spam")
    assert comment_status(app, shown) is None
    assert comment_status(app, late) == "spam"


def test_deleting_a_parent_keeps_its_replies(app, author_client):
    parent = add_comment(app, status="trash")
    child = add_comment(app, status="approved", parent_id=parent, depth=2)
    page = soup(author_client.get("/admin/comments?view=trash"))
    press_and_confirm(author_client, page, "Svuota il cestino")
    assert comment_status(app, parent) is None
    assert comment_status(app, child) == "approved"
    assert author_client.get("/admin/comments").status_code == 200


def shape(app, comment_id: int) -> tuple:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.parent_id, comment.thread_id, comment.depth


def test_a_deleted_top_comments_replies_head_threads_of_their_own(app, author_client):
    parent = add_comment(app, status="trash")
    under = {"status": "approved", "thread_id": parent}
    child = add_comment(app, parent_id=parent, depth=2, **under)
    grandchild = add_comment(app, parent_id=child, depth=3, **under)
    deepest = add_comment(app, parent_id=grandchild, depth=4, **under)
    page = soup(author_client.get("/admin/comments?view=trash"))
    press_and_confirm(author_client, page, "Svuota il cestino")
    assert comment_status(app, parent) is None
    assert shape(app, child) == (None, None, 1)
    assert shape(app, grandchild) == (child, child, 2)
    assert shape(app, deepest) == (grandchild, child, 3)
    shown = soup(author_client.get(PUBLIC))
    for reply in (child, grandchild, deepest):
        assert shown.select_one(f"li#comment-{reply}") is not None


def test_a_deleted_replys_replies_move_up_in_its_thread(app, author_client):
    top = add_comment(app, status="approved")
    middle = add_comment(app, status="spam", parent_id=top, depth=2, thread_id=top)
    below = add_comment(
        app, status="approved", parent_id=middle, depth=3, thread_id=top
    )
    page = soup(author_client.get("/admin/comments?view=spam"))
    press_and_confirm(
        author_client, page, "Elimina definitivamente", within=row(page, middle)
    )
    assert comment_status(app, middle) is None
    assert shape(app, below) == (top, top, 2)
    item = soup(author_client.get(PUBLIC)).select_one(f"li#comment-{top}")
    assert item.select_one(f"li#comment-{below}") is not None


def test_a_chain_deleted_at_once_leaves_its_last_reply_under_the_top(app):
    top = add_comment(app, status="approved")
    first = add_comment(app, status="spam", parent_id=top, depth=2, thread_id=top)
    second = add_comment(app, status="spam", parent_id=first, depth=3, thread_id=top)
    last = add_comment(app, status="approved", parent_id=second, depth=4, thread_id=top)
    with app.app_context():
        assert apply_action("delete", [second, first]) == 2
        db.session.commit()
    assert shape(app, last) == (top, top, 2)


def around_the_reply_insert(monkeypatch, before, after=lambda: None) -> None:
    """Make the comment form run ``before`` once it has read the reply's parent,
    and ``after`` once it has stored the reply and not yet committed: what
    another request could do in between."""
    original = submission.add_response

    def add_response(*args, **kwargs):
        before()
        stored = original(*args, **kwargs)
        after()
        return stored

    monkeypatch.setattr(submission, "add_response", add_response)


def run_by_another_connection(statement) -> None:
    with db.engine.begin() as other:
        other.execute(statement)


def test_a_reply_stored_while_its_parent_is_deleted_moves_up_in_its_place(
    app, client, monkeypatch
):
    parent = add_comment(app, status="approved")

    def author_deletes():
        with app.app_context():
            apply_action("delete", [parent])
            db.session.commit()

    deleting = threading.Thread(target=author_deletes)

    def delete_while_the_reply_is_stored():
        deleting.start()
        time.sleep(0.5)  # the deletion reaches its lock and waits there

    trash = update(Comment).where(Comment.id == parent).values(status="trash")
    around_the_reply_insert(
        monkeypatch,
        before=lambda: run_by_another_connection(trash),
        after=delete_while_the_reply_is_stored,
    )
    response = send_comment(client, app, text="Rispondo", comment_parent=str(parent))
    assert response.status_code == 302
    deleting.join(timeout=30)
    assert comment_status(app, parent) is None
    with app.app_context():
        reply = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
        assert (reply.content, reply.parent_id, reply.thread_id, reply.depth) == (
            "Rispondo",
            None,
            None,
            1,
        )


def test_a_reply_whose_parent_is_deleted_before_it_is_stored_is_refused(
    app, client, monkeypatch
):
    parent = add_comment(app, status="approved")
    add_comment(app)  # SQLite would give the deleted newest row's id again
    gone = delete(Comment).where(Comment.id == parent)
    around_the_reply_insert(monkeypatch, before=lambda: run_by_another_connection(gone))
    response = send_comment(client, app, text="Rispondo", comment_parent=str(parent))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "non esiste o non è ancora stato approvato" in page
    assert "Rispondo" in page


def test_emptying_asks_once_per_thread_however_many_replies(app, count_queries):
    # A flood of spam replies to one comment, each answered by more spam.
    top = add_comment(app, status="approved")
    for _ in range(40):
        spam = add_comment(app, status="spam", parent_id=top, depth=2, thread_id=top)
        add_comment(app, status="spam", parent_id=spam, depth=3, thread_id=top)
    with app.app_context(), count_queries() as counter:
        assert empty("spam", newest_response_id()) == 80
        db.session.commit()
    assert counter.count < 10
    assert comment_status(app, top) == "approved"


def test_a_foreign_next_is_ignored(app, author_client):
    comment_id = add_comment(app)
    page = soup(author_client.get("/admin/comments"))
    response = press(
        author_client,
        page,
        "Approva",
        within=row(page, comment_id),
        next="https://evil.example/",
    )
    assert response.headers["Location"] == "/admin/comments"


def test_email_links_open_a_confirmation_for_one_action(app, author_client):
    comment_id = add_comment(app)
    page = soup(author_client.get(f"/admin/comments/{comment_id}?azione=spam"))
    confirm = page.select_one(".confirm")
    assert "«Spam»" in confirm.get_text()
    response = press(author_client, page, "Spam", within=confirm)
    assert response.headers["Location"] == f"/admin/comments/{comment_id}"
    assert comment_status(app, comment_id) == "spam"
    # An action that does not fit the status shows no confirmation at all.
    page = soup(author_client.get(f"/admin/comments/{comment_id}?azione=approve"))
    assert page.select_one(".confirm") is None


def test_two_moderators_at_once_take_turns_and_the_second_sees_the_first(
    app, monkeypatch
):
    held = add_comment(app, status="pending")
    both_read = threading.Barrier(2)
    original_move = actions.move

    def move(comment, status):
        # Where both would have decided on the status read before either
        # committed: the second waits at its lock instead, so this times out.
        try:
            both_read.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass
        original_move(comment, status)

    monkeypatch.setattr(actions, "move", move)
    changed = []

    def moderate(name: str) -> None:
        with app.app_context():
            changed.append(apply_action(name, [held]))
            db.session.commit()

    moderators = [threading.Thread(target=moderate, args=("approve",)) for _ in "ab"]
    for moderator in moderators:
        moderator.start()
    for moderator in moderators:
        moderator.join(timeout=30)
    # One approval; the other found it approved already: one announcement.
    assert sorted(changed) == [0, 1]
    with app.app_context():
        announced = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "visible", OutboxMessage.ref_id == held
            )
        )
    assert announced == 1


@pytest.mark.backends("postgresql")
def test_the_counts_see_a_held_response_committed_after_a_later_id(app):
    # PostgreSQL's writers commit in any order: a response whose id came first
    # may be committed last, after the counts were kept with the latest id.
    def held(text: str) -> NewResponse:
        return NewResponse(content=text, author_name="Spam", status="pending")

    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_SLUG))
        slow = add_response(post, held("Primo, lento."), commit=False)
        with app.app_context():
            fast = add_response(db.session.get(Post, post.id), held("Secondo."))
            assert fast.id > slow.id
        with app.app_context():
            status_counts()  # the author opens the queue meanwhile
        db.session.commit()
    with app.app_context():
        kept = status_counts()["pending"]
        stored = db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.status == "pending")
        )
    assert kept == stored
