"""Shared helpers for the admin tests: authors, sign-in, CSRF tokens, responses."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import select

from blog.accounts.authors import create_author
from blog.core.settings import content_version
from blog.extensions import db
from blog.models import Comment, Post

PASSWORD = "correct horse battery"
POST_SLUG = "chi-e-e-chi-non-e-il-community-manager"


def soup(response) -> BeautifulSoup:
    """Parse a response (or HTML text)."""
    html = response if isinstance(response, str) else response.get_data(as_text=True)
    return BeautifulSoup(html, "html.parser")


def csrf_from(client, url: str) -> str:
    """The CSRF token of the first form on ``url``, as a browser would get it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    field = soup(response).find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF field on {url}"
    return field["value"]


def add_author(app, username: str = "riccardo", password: str = PASSWORD) -> int:
    with app.app_context():
        author = create_author(username, password)
        author.email = f"{username}@example.com"
        db.session.commit()
        return author.id


def log_in(client, username: str = "riccardo", password: str = PASSWORD):
    token = csrf_from(client, "/admin/login")
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
    )


def post_id(app, slug: str = POST_SLUG) -> int:
    with app.app_context():
        return db.session.scalar(select(Post.id).where(Post.slug == slug))


def add_comment(app, **values) -> int:
    """Store a response directly (as the comments feature would) and return its id."""
    defaults = {
        "post_id": values.pop("post_id", None) or post_id(app),
        "type": "comment",
        "status": "pending",
        "author_name": "Lettore",
        "author_email": "lettore@example.com",
        "author_url": "",
        "author_ip": "192.0.2.10",
        "content": "Un commento",
        "content_html": "<p>Un commento</p>",
        "moderation_reason": "in attesa di approvazione",
    }
    defaults.update(values)
    with app.app_context():
        comment = Comment(**defaults)
        db.session.add(comment)
        db.session.flush()
        comment.thread_id = comment.thread_id or comment.id
        db.session.commit()
        return comment.id


def comment_status(app, comment_id: int) -> str | None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.status if comment else None


def signed_in(app, client):
    """A client signed in as the author ``riccardo``: use as a fixture in modules."""
    add_author(app)
    response = log_in(client)
    assert response.status_code == 302
    return client


def form_data(form, button=None) -> dict[str, str | list[str]]:
    """What a browser sends for ``form`` (a soup element) when ``button`` is pressed."""
    data: dict[str, list[str]] = {}

    def put(name, value):
        data.setdefault(name, []).append(value)

    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.name == "input" and field.get("type") == "submit":
            continue
        if field.name == "textarea":
            # Browsers drop one newline right after <textarea>.
            put(name, field.get_text().removeprefix("\r\n").removeprefix("\n"))
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            put(name, chosen["value"] if chosen else "")
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                put(name, field.get("value", "on"))
        else:
            put(name, field.get("value", ""))
    if button is not None and button.get("name"):
        put(button["name"], button.get("value", ""))
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


def press(client, page, label: str, within=None, **changes):
    """Press the button called ``label`` on ``page`` (a soup), as a browser would."""
    scope = within or page
    button = next(
        (
            b
            for b in scope.find_all(["button", "input"])
            if (b.get_text(strip=True) if b.name == "button" else b.get("value"))
            == label
            and (b.name == "button" or b.get("type") == "submit")
        ),
        None,
    )
    assert button is not None, f"no button {label!r}"
    form = button.find_parent("form")
    data = {**form_data(form, button), **changes}
    return client.post(form["action"], data=data)


def press_and_confirm(client, page, label: str, within=None):
    """Press ``label`` (a deletion for good), then the confirmation's button."""
    asked = press(client, page, label, within=within)
    assert asked.status_code == 200, asked.status_code
    confirmation = soup(asked)
    button = confirmation.select_one("section.confirm button")
    return press(client, confirmation, button.get_text(strip=True))


def page_version(app) -> str:
    """The content version the page cache keys pages by."""
    with app.app_context():
        return content_version()
