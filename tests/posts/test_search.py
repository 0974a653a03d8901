"""``/?s=parole``: full-text search over published posts, on both databases."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, text

from blog import create_app
from blog.extensions import db
from blog.models import Author, Post
from blog.posts.search import fts5_query, search_words


def results(client, query: str, **params) -> list[str]:
    response = client.get("/", query_string={"s": query, **params})
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return [a.get_text() for a in page.select(".post-title a")]


def add_post(
    app,
    slug: str,
    title: str,
    body: str,
    published: bool = True,
    published_at: datetime = datetime(2013, 1, 1),
) -> None:
    with app.app_context():
        db.session.add(
            Post(
                slug=slug,
                title=title,
                body=body,
                author=db.session.scalar(select(Author)),
                status="published" if published else "draft",
                published_at=published_at if published else None,
            )
        )
        db.session.commit()


def test_words_of_the_title_and_of_the_body_are_found(app, client):
    add_post(app, "torrefazione", "La torrefazione", "<p>Chicchi tostati.</p>")
    add_post(app, "macinatura", "Macinare", "<p>La torrefazione conta.</p>")
    assert sorted(results(client, "torrefazione")) == ["La torrefazione", "Macinare"]
    assert results(client, "chicchi tostati") == ["La torrefazione"]


def test_a_post_with_the_words_in_its_title_comes_first(app, client):
    # Newest first would put the body-only mentions ahead.
    add_post(
        app,
        "guida",
        "Guida alla moka",
        "<p>Acqua e caffè.</p>",
        True,
        datetime(2010, 1, 1),
    )
    add_post(
        app,
        "cronaca",
        "Cronaca",
        "<p>Ho comprato una moka.</p>",
        True,
        datetime(2014, 1, 1),
    )
    add_post(
        app,
        "ricordi",
        "Ricordi",
        "<p>La moka della nonna.</p>",
        True,
        datetime(2015, 1, 1),
    )
    assert results(client, "moka") == ["Guida alla moka", "Ricordi", "Cronaca"]


def test_every_word_must_be_there(app, client):
    add_post(app, "uno", "Caffè lungo", "<p>Acqua.</p>")
    assert results(client, "lungo acqua") == ["Caffè lungo"]
    assert results(client, "lungo latte") == []


def test_drafts_are_never_found(app, client):
    add_post(app, "segreto", "Bozza segreta", "<p>Zafferano.</p>", published=False)
    assert results(client, "zafferano") == []


def test_an_edited_post_is_found_by_its_new_words(app, client):
    add_post(app, "cambia", "Prima", "<p>Cardamomo.</p>")
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "cambia"))
        post.body = "<p>Cannella.</p>"
        db.session.commit()
    assert results(client, "cannella") == ["Prima"]
    assert results(client, "cardamomo") == []


def test_the_same_search_again_is_answered_from_what_was_kept(
    app, client, count_queries
):
    add_post(app, "cardamomo", "Spezie", "<p>Cardamomo verde.</p>")
    assert results(client, "cardamomo") == ["Spezie"]
    with count_queries() as counter:
        assert results(client, "cardamomo") == ["Spezie"]
    assert len(counter.statements) == 1  # the settings, with the content version
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "cardamomo"))
        post.body = "<p>Cannella.</p>"
        db.session.commit()
    assert results(client, "cardamomo") == []  # a change shows at once
    assert results(client, "cannella") == ["Spezie"]


def test_nothing_found_says_so_in_italian(client):
    response = client.get("/?s=nessunaparolacosi")
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.select_one("h1").get_text() == "Risultati per «nessunaparolacosi»"
    assert "Nessun risultato." in page.get_text()
    assert page.select_one("input[name=s]")["value"] == "nessunaparolacosi"


def test_the_query_is_echoed_without_controls(client):
    # C0 and C1 controls and a bidirectional override: forbidden in HTML, and
    # the override would turn the title's end around.
    response = client.get("/?s=%01nessuna%0B%C2%85parola%E2%80%AE%EF%BF%BF")
    html = response.get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    assert page.select_one("input[name=s]")["value"] == "nessuna parola"  # NEL: a break
    assert not any(ch in html for ch in "\x01\x0b\x85\u202e\uffff")


def test_an_empty_query_asks_for_a_word(client):
    page = BeautifulSoup(client.get("/?s=+").get_data(as_text=True), "html.parser")
    assert "Scrivi almeno una parola da cercare." in page.get_text()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"', []),
        ("AND", ["AND OR NOT"]),  # a word of the title, not an operator
        ("title:caffè", []),
        ("NEAR(caffè lungo)", []),
        ("caff*", []),
        ("^caffè", []),
        ("a OR b NOT c", []),
        ("(", []),
        ("'; DROP TABLE post; --", []),
        ("x" * 5000, []),
        ("!:&|", []),
    ],
)
def test_search_syntax_is_read_as_plain_words(app, client, query, found):
    add_post(app, "sintassi", "AND OR NOT", "<p>Parole riservate.</p>")
    # Operators widen nothing: every word must be in the post.
    assert results(client, query) == found


def test_operator_words_are_searched_as_words(app, client):
    add_post(app, "operatori", "Caffè NEAR me", "<p>Vicino.</p>")
    assert results(client, "NEAR") == ["Caffè NEAR me"]


def test_fts5_query_quotes_every_word():
    assert fts5_query(["caffè", 'a"b', "NEAR(x"]) == '"caffè" "a""b" "NEAR(x"'
    assert len(search_words(" ".join(f"w{n}" for n in range(50)))) == 8


def test_results_are_paginated_and_keep_the_query(app, client):
    app.config["POSTS_PER_PAGE"] = 2
    for n in range(3):
        add_post(app, f"miscela-{n}", f"Miscela {n}", "<p>Arabica.</p>")
    first = client.get("/?s=arabica")
    page = BeautifulSoup(first.get_data(as_text=True), "html.parser")
    assert len(page.select(".post-title a")) == 2
    assert page.select_one(".pager a[rel=next]")["href"] == "/?page=2&s=arabica"
    assert len(results(client, "arabica", page=2)) == 1


def test_accents_do_not_matter_on_sqlite(app, client, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite's unicode61 folds accents; PostgreSQL's Italian does not")
    add_post(app, "perche", "Perché sì", "<p>Città.</p>")
    assert results(client, "perche citta") == ["Perché sì"]


def test_italian_stemming_on_postgresql(app, client, db_backend):
    if db_backend != "postgresql":
        pytest.skip("SQLite has no Italian stemmer")
    add_post(app, "regole", "Le regole", "<p>Tazzine.</p>")
    assert results(client, "regola tazzina") == ["Le regole"]


def test_a_query_of_stop_words_still_finds_them(app, client):
    # PostgreSQL's Italian configuration drops "perché" and "il" altogether.
    add_post(app, "perche-no", "Perché no", "<p>Il caffè.</p>")
    assert "Perché no" in results(client, "perché il")


def test_postgresql_search_uses_the_gin_index_expression(app, db_backend):
    if db_backend != "postgresql":
        pytest.skip("the GIN index is PostgreSQL's")
    with app.app_context():
        db.session.execute(text("SET enable_seqscan = off"))
        plan = db.session.execute(
            text(
                "EXPLAIN SELECT id FROM post WHERE"
                " to_tsvector('italian', post.title || ' ' || post.body)"
                " @@ plainto_tsquery('italian', 'caffè')"
            )
        ).scalars()
        assert "ix_post_search" in "\n".join(plan)


def test_a_migrated_database_finds_the_posts_it_already_had(empty_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": empty_database_url}
    )
    with app.app_context():
        flask_migrate.upgrade(revision="0003")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO author (id, username, slug, display_name, email,"
                    " password_hash, title, bio, url)"
                    " VALUES (1, 'anna', 'anna', 'Anna', '', '', '', '', '')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO post (slug, title, body, excerpt, author_id, status,"
                    " comment_status, ping_status, published_at, created_at,"
                    " updated_at) VALUES ('vecchio', 'Le regole', '<p>Testo.</p>',"
                    " '', 1, 'published', 'open', 'open', :at, :at, :at)"
                ),
                {"at": datetime(2012, 1, 1)},
            )
        flask_migrate.upgrade()
    assert results(app.test_client(), "regole") == ["Le regole"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("url", ["/", "/category/social-media-marketing/", "/2012/"])
def test_listings_carry_the_search_form(client, url):
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    form = page.select_one("form.search-form[method=get]")
    assert form["action"] == "/"
    assert form.select_one("input[type=search][name=s]")
    assert page.select_one(f"label[for={form.input['id']}]").get_text() == "Cerca"
