"""The post editor: create, slug rules, sanitised body, preview, publish."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers_admin import form_data, press, soup
from sqlalchemy import select

from blog.admin import posts as admin_posts
from blog.admin.post_views import SAVED_MEANWHILE
from blog.admin.posts import EDITED_MEANWHILE
from blog.core.localtime import local_time
from blog.core.signals import post_published
from blog.extensions import db
from blog.models import Category, OutboundPing, Post, utcnow
from blog.posts.categories import category_slug
from blog.posts.slugs import post_slug, slug_refusal


def editor(client, url: str = "/admin/posts/new"):
    return soup(client.get(url))


def write(client, page, button: str = "Salva", **fields):
    return press(client, page, button, **fields)


def stored(app, slug: str) -> Post | None:
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == slug))
        if post is not None:
            assert post.categories is not None  # loaded before leaving the session
            db.session.expunge_all()
        return post


@pytest.fixture
def published():
    posts = []

    def listen(sender, post):
        posts.append(post.slug)

    with post_published.connected_to(listen):
        yield posts


def test_a_draft_gets_a_slug_from_its_title_and_stays_private(
    app, author_client, published
):
    response = write(
        author_client,
        editor(author_client),
        title="Perché è difficile misurare una community?",
        body="<p>Bozza</p>",
        category_names="Social Media Marketing, Community, community",
    )
    assert response.status_code == 302
    post = stored(app, "perche-e-difficile-misurare-una-community")
    assert post.status == "draft" and post.published_at is None
    assert [c.name for c in post.categories] == ["Community", "Social Media Marketing"]
    assert published == []
    assert author_client.get(f"/{post.slug}/").status_code == 404
    preview = author_client.get(f"/admin/posts/{post.id}/preview")
    assert "Bozza" in preview.get_data(as_text=True)


def test_blank_lines_in_the_editor_make_paragraphs(app, author_client, published):
    # As WordPress's editor: the author writes text, not <p> tags.
    body = "Primo paragrafo,\nsu due righe.\n\nSecondo paragrafo.\n\n<pre>a\n\nb</pre>"
    page = editor(author_client)
    preview = soup(write(author_client, page, "Anteprima", title="A capo", body=body))
    shown = preview.select_one(".preview .post-body")
    assert [p.get_text() for p in shown.find_all("p")] == [
        "Primo paragrafo,su due righe.",
        "Secondo paragrafo.",
    ]
    write(author_client, page, "Pubblica", title="A capo", body=body)
    page = soup(author_client.get("/a-capo/"))
    paragraphs = page.select(".post-body p")
    assert [p.get_text() for p in paragraphs] == [
        "Primo paragrafo,su due righe.",
        "Secondo paragrafo.",
    ]
    assert paragraphs[0].find("br") is not None
    assert page.select_one(".post-body pre").get_text() == "a\n\nb"


def test_the_author_writes_a_page(app, author_client, published):
    page = editor(author_client)
    saved = write(
        author_client, page, "Pubblica", title="Chi sono", body="Sono io.", kind="page"
    )
    shown = author_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Pagina pubblicata." in shown
    assert stored(app, "chi-sono").kind == "page"
    assert "Sono io." in author_client.get("/chi-sono/").get_data(as_text=True)
    home = soup(author_client.get("/"))
    assert "/chi-sono/" not in [a["href"] for a in home.select(".post-title a")]
    assert home.select_one("nav.site-pages a")["href"] == "/chi-sono/"
    listed = soup(author_client.get("/admin/posts"))
    row = next(r for r in listed.select("tbody tr") if "Chi sono" in r.get_text())
    assert "Pagina" in row.get_text()


def test_the_menu_shows_pages_in_the_order_the_author_gives(
    app, author_client, published
):
    for title, order in (("Zeta", "1"), ("Alfa", "2"), ("Beta", "")):
        page = editor(author_client)
        write(
            author_client, page, "Pubblica", title=title, kind="page", menu_order=order
        )
    menu = soup(author_client.get("/")).select("nav.site-pages a")
    # Beta has no number (0): first; then Zeta (1) before Alfa (2).
    assert [a.get_text() for a in menu] == ["Beta", "Zeta", "Alfa"]


def test_a_menu_order_that_is_no_number_is_explained(app, author_client):
    page = editor(author_client)
    response = write(author_client, page, title="Pagina", kind="page", menu_order="due")
    assert response.status_code == 400
    field = soup(response).select_one(".field-menu_order")
    assert "numero" in field.select_one(".field-error").get_text()
    assert field.select_one("input")["value"] == "due"


def test_publishing_sets_the_date_and_announces_the_post(app, author_client, published):
    page = editor(author_client)
    write(author_client, page, "Pubblica", title="Nuovo articolo", body="<p>Ciao</p>")
    post = stored(app, "nuovo-articolo")
    assert post.status == "published"
    assert post.published_at is not None
    assert published == ["nuovo-articolo"]
    assert "Ciao" in author_client.get("/nuovo-articolo/").get_data(as_text=True)
    # Editing it while published announces it again (pings for new links).
    page = editor(author_client, f"/admin/posts/{post.id}")
    write(author_client, page, body='<p>Ciao <a href="https://example.org/">x</a></p>')
    assert published == ["nuovo-articolo", "nuovo-articolo"]


def test_publish_button_in_the_list_publishes_a_draft(app, author_client, published):
    write(author_client, editor(author_client), title="Da pubblicare")
    listing = soup(author_client.get("/admin/posts"))
    row = next(tr for tr in listing.select("tbody tr") if "Da pubblicare" in tr.text)
    press(author_client, listing, "Pubblica", within=row)
    assert stored(app, "da-pubblicare").status == "published"
    assert published == ["da-pubblicare"]


def test_every_field_is_saved(app, author_client):
    write(
        author_client,
        editor(author_client),
        title="Completo",
        slug="un-altro-slug",
        body="<h2>Titolo</h2><ul><li>uno</li></ul>",
        excerpt="In breve",
        published_at="2024-03-05T09:30",
        status="published",
        comment_status="closed",
        ping_status="closed",
    )
    post = stored(app, "un-altro-slug")
    assert post.title == "Completo"
    assert post.excerpt == "In breve"
    # Typed in the blog's time (Europe/Rome, UTC+1 in March), stored in UTC.
    assert post.published_at == datetime(2024, 3, 5, 8, 30)
    assert (post.status, post.comment_status, post.ping_status) == (
        "published",
        "closed",
        "closed",
    )
    page = editor(author_client, f"/admin/posts/{post.id}")
    data = form_data(page.find("form", class_="post-form"))
    assert data["slug"] == "un-altro-slug"
    assert data["published_at"] == "2024-03-05T09:30"  # shown as typed
    assert data["comment_status"] == "closed"
    # Readers see the blog's time too; the <time> element says the UTC one.
    listed = soup(author_client.get("/admin/posts")).get_text()
    assert "5 marzo 2024 alle 09:30" in listed
    public = soup(author_client.get("/un-altro-slug/")).select_one(".post-meta time")
    assert public["datetime"] == "2024-03-05T08:30:00Z"


def test_an_editor_error_is_tied_to_its_field(app, author_client):
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page = soup(
        write(
            author_client,
            editor(author_client),
            "Pubblica",
            title="X",
            published_at=later,
        )
    )
    control = page.select_one("#published_at")
    assert control["aria-invalid"] == "true"
    assert control["aria-describedby"] == "published_at-error"
    assert "nel futuro" in page.select_one("#published_at-error").get_text()


def test_a_future_date_is_refused_when_publishing_kept_for_a_draft(app, author_client):
    # Published at once, a post dated 2030 would head the home page until then.
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page = editor(author_client)
    response = write(
        author_client, page, "Pubblica", title="Futuro", published_at=later
    )
    assert response.status_code == 400
    assert "nel futuro" in response.get_data(as_text=True)
    assert stored(app, "futuro") is None
    assert (
        write(author_client, page, title="Futuro", published_at=later).status_code
        == 302
    )
    assert stored(app, "futuro").status == "draft"
    # Now in the blog's zone is now, whatever UTC says; an hour ahead is not.
    with app.app_context():
        now_here = local_time(utcnow())
    ahead = (now_here + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = write(
        author_client,
        editor(author_client),
        "Pubblica",
        title="Ora",
        published_at=ahead,
    )
    assert refused.status_code == 400
    published = write(
        author_client,
        editor(author_client),
        "Pubblica",
        title="Ora",
        published_at=now_here.strftime("%Y-%m-%dT%H:%M"),
    )
    assert published.status_code == 302
    assert stored(app, "ora").status == "published"


def test_the_lists_publish_button_refuses_a_draft_dated_ahead(
    app, author_client, published
):
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    write(author_client, editor(author_client), title="Futuro", published_at=later)
    listing = soup(author_client.get("/admin/posts"))
    row = next(tr for tr in listing.select("tbody tr") if "Futuro" in tr.text)
    response = press(author_client, listing, "Pubblica", within=row)
    assert response.headers["Location"].endswith(
        f"/admin/posts/{stored(app, 'futuro').id}"
    )
    assert stored(app, "futuro").status == "draft"
    assert published == []
    assert "nel futuro" in author_client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_post_longer_than_a_comment_may_be_is_saved(app, author_client):
    # Over MAX_CONTENT_LENGTH (256 KiB, the comment form's bound), under 1 MiB.
    body = "<p>" + "Una frase lunga di un articolo molto lungo. " * 9000 + "</p>"
    response = write(author_client, editor(author_client), title="Lungo", body=body)
    assert response.status_code == 302
    assert len(stored(app, "lungo").body) > 300_000
    readers = app.test_client().post(
        "/chi-e-e-chi-non-e-il-community-manager/comment", data={"comment": body}
    )
    assert readers.status_code == 413  # the readers' forms keep their bound


def test_a_stale_token_gives_back_what_was_typed(app, author_client):
    page = editor(author_client)
    form = next(f for f in page.find_all("form") if f.find("textarea"))
    form.select_one("input[name=csrf_token]")["value"] = "gettone-falso"
    response = write(
        author_client, page, title="Da non perdere", body="Un testo scritto a lungo."
    )
    assert response.status_code == 400
    shown = soup(response)
    kept = [area.get_text().strip() for area in shown.select("textarea[readonly]")]
    assert "Da non perdere" in kept and "Un testo scritto a lungo." in kept
    assert "gettone-falso" not in shown.get_text()
    assert stored(app, "da-non-perdere") is None


def test_a_title_and_categories_are_one_line_without_controls(app, author_client):
    write(
        author_client,
        editor(author_client),
        title="Ti\x01tolo\u202e\nnuovo",
        slug="titolo-pulito",
        category_names="Cate\u202egoria, Al\x96tra",
    )
    post = stored(app, "titolo-pulito")
    assert post.title == "Titolo nuovo"
    assert sorted(c.name for c in post.categories) == ["Altra", "Categoria"]


def test_the_body_is_sanitised_to_the_post_whitelist(app, author_client):
    write(
        author_client,
        editor(author_client),
        title="Sicuro",
        body=(
            "<h3>Ok</h3><table><tr><td>cella</td></tr></table>"
            '<img src="/a.png" alt="a">'
            '<script>alert(1)</script><p onclick="x()" style="color:red">testo</p>'
            '<a href="javascript:alert(1)">link</a>'
        ),
    )
    body = stored(app, "sicuro").body
    for kept in (
        "<h3>Ok</h3>",
        "<table>",
        "<td>cella</td>",
        '<img src="/a.png" alt="a">',
    ):
        assert kept in body
    for dropped in ("<script", "onclick", "style=", "javascript:"):
        assert dropped not in body


def test_a_slug_clash_is_explained_and_the_typing_kept(app, author_client):
    page = editor(author_client)
    response = write(
        author_client,
        page,
        title="Doppione",
        slug="chi-e-e-chi-non-e-il-community-manager",
        body="<p>Testo scritto</p>",
    )
    assert response.status_code == 400
    result = soup(response)
    assert "è già usato da un altro articolo" in result.select_one(".field-error").text
    data = form_data(result.find("form", class_="post-form"))
    assert data["title"] == "Doppione"
    assert data["body"] == "<p>Testo scritto</p>"
    assert stored(app, "doppione") is None


def test_a_title_another_post_has_gets_the_next_free_slug(app, author_client):
    # No slug typed: the title's is taken, as WordPress takes it, with -2.
    write(author_client, editor(author_client), title="Doppione", body="<p>1</p>")
    response = write(author_client, editor(author_client), title="Doppione")
    assert response.status_code == 302
    assert stored(app, "doppione-2").title == "Doppione"
    write(author_client, editor(author_client), title="Doppione")
    assert stored(app, "doppione-3") is not None


def test_a_numbered_slug_stays_when_the_slug_field_is_emptied(app, author_client):
    write(author_client, editor(author_client), title="Doppione", body="<p>1</p>")
    write(author_client, editor(author_client), title="Doppione", body="<p>2</p>")
    url = f"/admin/posts/{stored(app, 'doppione-2').id}"
    for _ in range(2):
        write(author_client, editor(author_client, url), slug="")
        assert stored(app, "doppione-2") is not None
    assert soup(author_client.get("/admin/old-paths")).select("tbody tr") == []


def test_a_post_may_keep_its_own_slug(app, author_client):
    write(author_client, editor(author_client), title="Stesso slug")
    post = stored(app, "stesso-slug")
    page = editor(author_client, f"/admin/posts/{post.id}")
    response = write(author_client, page, title="Titolo cambiato")
    assert response.status_code == 302
    assert stored(app, "stesso-slug").title == "Titolo cambiato"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "è riservato"),
        ("comments", "è riservato"),
        ("healthz", "è riservato"),
        ("tag", "è riservato"),
        ("!!!", "almeno una lettera latina"),
        ("привет", "almeno una lettera latina"),
        ("2024", "sole cifre"),  # read as a year's archive
    ],
)
def test_unusable_slugs_are_refused(app, author_client, slug, message):
    response = write(author_client, editor(author_client), title="X", slug=slug)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_every_first_segment_of_the_blogs_own_addresses_is_reserved(app):
    own = {
        post_slug(rule.rule.split("/")[1])
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/<")
    }
    own.discard("")
    # A dot is not a slug's: "/sitemap.xml" cannot meet a post's address.
    assert {slug for slug in own if slug_refusal(slug) is None} <= {
        "index-php",
        "robots-txt",
        "sitemap-xml",
        "xmlrpc-php",
    }


def test_a_slug_of_digits_and_words_or_dashes_is_a_posts(app, author_client):
    response = write(author_client, editor(author_client), title="X", slug="2019-2020")
    assert response.status_code == 302
    # Saved again with the same slug: still accepted.
    page = editor(author_client, response.headers["Location"])
    assert write(author_client, page, title="Y").status_code == 302
    assert stored(app, "2019-2020").title == "Y"


def test_a_renamed_post_keeps_its_old_address(app, author_client, published):
    saved = write(author_client, editor(author_client), "Pubblica", title="Primo")
    page = editor(author_client, saved.headers["Location"])
    write(author_client, page, slug="secondo")
    for old, new in (
        ("/primo/", "/secondo/"),
        ("/primo/comment-page-2/", "/secondo/comment-page-2/"),
    ):
        response = author_client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith(new), old
    listed = soup(author_client.get("/admin/old-paths")).select("tbody tr")
    assert [(r.code.get_text(), "editor" in r.get_text()) for r in listed] == [
        ("/primo", True)
    ]


def test_an_address_that_is_live_again_is_no_old_address(app, author_client, published):
    saved = write(author_client, editor(author_client), "Pubblica", title="Alfa")
    url = saved.headers["Location"]
    write(author_client, editor(author_client, url), slug="beta")
    write(author_client, editor(author_client, url), slug="alfa")  # back again
    listed = soup(author_client.get("/admin/old-paths")).select("tbody tr code")
    assert [code.get_text() for code in listed] == ["/beta"]
    # Another post takes the slug the renamed one left: /beta is its, now.
    write(author_client, editor(author_client), "Pubblica", title="Beta")
    assert soup(author_client.get("/admin/old-paths")).select("tbody tr") == []
    assert author_client.get("/beta/").status_code == 200


def test_a_draft_on_a_renamed_posts_old_slug_leaves_the_old_address_leading_on(
    app, author_client, published
):
    saved = write(author_client, editor(author_client), "Pubblica", title="Primo")
    write(author_client, editor(author_client, saved.headers["Location"]), slug="terzo")
    # A draft's address serves nothing: the old one still leads to the post,
    # however the draft is saved, until the draft is published there.
    draft = write(author_client, editor(author_client), title="Primo")
    write(
        author_client, editor(author_client, draft.headers["Location"]), body="<p>x</p>"
    )
    response = author_client.get("/primo/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/terzo/")
    write(author_client, editor(author_client, draft.headers["Location"]), "Pubblica")
    assert author_client.get("/primo/").status_code == 200
    assert soup(author_client.get("/admin/old-paths")).select("tbody tr") == []


def test_a_renamed_draft_leaves_no_old_address(app, author_client):
    saved = write(author_client, editor(author_client), title="Bozza")
    page = editor(author_client, saved.headers["Location"])
    write(author_client, page, slug="bozza-nuova")
    assert author_client.get("/bozza/").status_code == 404


def test_a_missing_title_is_a_400(app, author_client):
    response = write(author_client, editor(author_client), title="", body="<p>b</p>")
    assert response.status_code == 400
    assert "Campo obbligatorio." in response.get_data(as_text=True)


def test_preview_shows_the_sanitised_body_without_saving(app, author_client):
    response = write(
        author_client,
        editor(author_client),
        "Anteprima",
        title="Prova",
        body="<p>Anteprima <b>qui</b></p><script>x</script>",
    )
    assert response.status_code == 200
    preview = soup(response).select_one(".preview .post-body")
    # The script goes with what it held, not only its tags.
    assert preview.decode_contents() == "<p>Anteprima <b>qui</b></p>"
    assert stored(app, "prova") is None


def test_the_list_shows_drafts_and_published_posts(app, author_client):
    write(author_client, editor(author_client), title="Bozza nella lista")
    listing = soup(author_client.get("/admin/posts")).get_text()
    assert "Bozza nella lista" in listing
    assert "Chi è e chi NON è il Community Manager?!" in listing


def test_the_editor_shows_the_pings_sent_for_the_post(app, author_client):
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug.like("chi-e-%")))
        post_id = post.id
        db.session.add_all(
            [
                OutboundPing(
                    post_id=post_id,
                    target_url="https://a.example.org/x",
                    method="webmention",
                    status="sent",
                    result="202",
                    attempted_at=datetime(2026, 1, 2, 3, 4, 5),
                ),
                OutboundPing(
                    post_id=post_id,
                    target_url="https://b.example.org/y",
                    status="none",  # as ``send`` records a site with no endpoint
                    result="nessun endpoint",
                ),
            ]
        )
        db.session.commit()
    rows = soup(author_client.get(f"/admin/posts/{post_id}")).select(
        ".outbound-pings tbody tr"
    )
    cells = [
        [td.get_text(" ", strip=True) for td in row.find_all("td")] for row in rows
    ]
    assert cells[0][:3] == ["https://a.example.org/x", "webmention", "inviato"]
    assert cells[1][2:4] == ["non ricevute dal sito", "nessun endpoint"]
    other = soup(author_client.get("/admin/posts/new"))
    assert other.select(".outbound-pings") == []


def test_a_category_whose_slug_grows_past_its_column_is_cut(app, author_client):
    # "ﬃ" is one character and three in a slug ("ffi"): 41 of them are 123.
    response = write(
        author_client,
        editor(author_client),
        title="Legature",
        body="<p>x</p>",
        # Two names, one slug once it is cut: one category.
        category_names="ﬃ" * 41 + ", " + "ﬃ" * 41 + "x",
    )
    assert response.status_code == 302
    [category] = stored(app, "legature").categories
    assert category.slug == "ffi" * 40


def _stale_category_check(name: str) -> Category:
    category = Category(name=name, slug=category_slug(name))
    db.session.add(category)
    return category


@pytest.mark.parametrize(
    ("fields", "taken", "stale_check"),
    [
        (
            {"category_names": "Gara"},
            "category_names",
            ("get_or_create_category", _stale_category_check),
        ),
        ({"slug": "gara"}, "slug", ("choose_slug", lambda data, post_id: "gara")),
    ],
)
def test_a_name_another_save_takes_meanwhile_brings_the_form_back(
    app, author_client, monkeypatch, fields, taken, stale_check
):
    # Another save committed the same new slug or category after this one's
    # check found it free, as two saves at once would: the check here sees
    # nothing, the database has the row.
    with app.app_context():
        author_id = db.session.scalar(select(Post.author_id))
        db.session.add(Category(name="Gara", slug="gara"))
        db.session.add(Post(slug="gara", title="Altro", author_id=author_id))
        db.session.commit()
    page = editor(author_client)
    with monkeypatch.context() as patch:
        patch.setattr(admin_posts, *stale_check)
        response = write(author_client, page, title="Corsa", body="<p>x</p>", **fields)
    assert response.status_code == 409
    form = soup(response)
    assert form.select_one(f"#{taken}-error").get_text() == SAVED_MEANWHILE
    assert form.select_one("#title")["value"] == "Corsa"


def two_editors(app, author_client, **fields):
    """A post "Due finestre" saved with ``fields``, then its editor opened
    twice (a desk and a phone), before either saves."""
    write(author_client, editor(author_client), title="Due finestre", **fields)
    address = f"/admin/posts/{stored(app, 'due-finestre').id}"
    return editor(author_client, address), editor(author_client, address)


def test_a_save_from_an_editor_opened_before_another_save_is_held_back(
    app, author_client
):
    desk, phone = two_editors(app, author_client, body="Primo.")
    write(author_client, desk, body="Il testo lungo scritto alla scrivania.")
    response = write(author_client, phone, title="Due finestre, corretto")
    assert response.status_code == 409
    form = soup(response)
    assert form.select_one("#body-error").get_text() == EDITED_MEANWHILE
    assert form.select_one("#title")["value"] == "Due finestre, corretto"
    kept = stored(app, "due-finestre")
    assert (kept.title, kept.body) == (
        "Due finestre",
        "<p>Il testo lungo scritto alla scrivania.</p>",
    )
    # Pressed again, having seen the warning: this version is the one kept.
    assert write(author_client, form).status_code == 302
    assert stored(app, "due-finestre").title == "Due finestre, corretto"


def test_a_refusal_of_another_field_keeps_the_revision_the_editor_opened(
    app, author_client
):
    # Refused for its date first (400), then saved without it: still the
    # stale editor, which the other save's text must not be lost to.
    desk, phone = two_editors(app, author_client, body="Primo.")
    write(author_client, desk, body="Il testo lungo scritto alla scrivania.")
    with app.app_context():  # the blog's zone, as the editor reads it
        ahead = local_time(utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    dated = write(
        author_client, phone, "Pubblica", title="Dal telefono", published_at=ahead
    )
    assert dated.status_code == 400
    again = write(author_client, soup(dated), title="Dal telefono", published_at="")
    assert again.status_code == 409
    assert "scrivania" in stored(app, "due-finestre").body


def test_a_save_of_the_categories_alone_is_a_revision_too(app, author_client):
    desk, phone = two_editors(app, author_client, category_names="Viaggi")
    assert (
        write(author_client, desk, category_names="Viaggi, Cucina").status_code == 302
    )
    assert write(author_client, phone, title="Dal telefono").status_code == 409
    kept = stored(app, "due-finestre")
    assert sorted(c.name for c in kept.categories) == ["Cucina", "Viaggi"]


def test_more_marks_the_teaser_the_listings_show(app, author_client, published):
    # WordPress's <!--more-->: the home page shows the post up to it, with
    # its markup; the post's page shows everything; the mark is kept.
    body = (
        "<p>Prima parte con <strong>grassetto</strong> e <a href='/chi-sono/'>link</a>."
        "</p>\n<!--more Continua-->\n<p>Seconda parte, solo sulla pagina.</p>"
    )
    write(author_client, editor(author_client), "Pubblica", title="Teaser", body=body)
    assert "<!--more-->" in stored(app, "teaser").body
    home = soup(author_client.get("/"))
    teaser = home.select_one(".post-summary .post-teaser")
    assert teaser.strong.get_text() == "grassetto"
    assert teaser.a["href"] == "/chi-sono/"
    assert "Seconda parte" not in home.get_text()
    page = soup(author_client.get("/teaser/")).select_one(".post-body").get_text()
    assert "Prima parte" in page and "Seconda parte" in page
    with app.app_context():
        assert stored(app, "teaser").summary == "Prima parte con grassetto e link."


@pytest.mark.parametrize(
    "stored_at",
    [
        datetime(2026, 10, 25, 1, 30),  # the second 02:30 in Rome (clocks back)
        datetime(2013, 2, 28, 15, 0, 47),  # an imported post's seconds
    ],
)
def test_saving_without_touching_the_date_keeps_it(app, author_client, stored_at):
    # The editor shows the date in local minutes: sent back unchanged, it is
    # the stored moment, not a different one read back from the minutes.
    write(author_client, editor(author_client), "Pubblica", title="Data ferma")
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "data-ferma"))
        post.published_at = stored_at
        db.session.commit()
        url = f"/admin/posts/{post.id}"
    write(author_client, editor(author_client, url), title="Data ferma, nuovo titolo")
    assert stored(app, "data-ferma").published_at == stored_at


def test_a_teaser_too_long_to_be_one_leaves_the_summary(app, author_client, published):
    # A mark near the end of a long imported post: the listing shows the
    # summary, not most of the post (made again at every listing).
    long_part = "<p>" + "Parola lunga. " * 2_000 + "</p>"
    body = long_part + "\n<!--more-->\n<p>Coda.</p>"
    write(author_client, editor(author_client), "Pubblica", title="Lungo", body=body)
    home = soup(author_client.get("/"))
    assert home.select_one(".post-teaser") is None
    summary = home.select_one(".post-summary .post-excerpt").get_text()
    assert summary.startswith("Parola lunga.") and summary.endswith("…")
