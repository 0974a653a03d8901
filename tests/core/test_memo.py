"""Values kept per worker while the version they were made at stands."""

from __future__ import annotations

from blog.core import memo
from blog.core.memo import kept_for_version, markup_store


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_kept_while_its_version_stands(app):
    calls, compute = counter()
    with app.app_context():
        assert kept_for_version("test", "v1", "k", compute) == 1
        assert kept_for_version("test", "v1", "k", compute) == 1
        assert kept_for_version("test", "v1", "other", compute) == 2
        # A new version: everything is computed again, the old values dropped.
        assert kept_for_version("test", "v2", "k", compute) == 3
        assert kept_for_version("test", "v1", "k", compute) == 4
    assert len(calls) == 4


def test_nothing_is_kept_without_a_version(app):
    calls, compute = counter()
    with app.app_context():
        kept_for_version("test", "", "k", compute)
        kept_for_version("test", "", "k", compute)
    assert len(calls) == 2


def test_one_client_asking_key_after_key_cannot_grow_a_worker(app, monkeypatch):
    monkeypatch.setattr(memo, "MAX_ENTRIES", 3)
    with app.app_context():
        for key in range(10):
            kept_for_version("test", "v1", key, lambda: 0)
        assert len(app.extensions["test"][1]) <= 3


def test_a_store_may_keep_fewer(app):
    calls, compute = counter()
    with app.app_context():
        for key in range(5):
            kept_for_version("test", "v1", key, compute, limit=2)
        assert len(app.extensions["test"][1]) <= 2
        # The newest is still kept.
        assert kept_for_version("test", "v1", 4, compute, limit=2) == 5
    assert len(calls) == 5


def test_kept_markup_is_dropped_past_its_bound(monkeypatch):
    monkeypatch.setattr(memo, "MAX_MARKUP_CHARS", 100)
    kept = memo.KeptMarkup()
    for n in range(10):
        kept.keep(n, "x" * 40)
        assert kept.chars <= 100
        assert kept.chars == 40 * len(kept.markup)
    assert kept.get(9) == "x" * 40


def test_the_texts_a_key_holds_count_against_the_bound(monkeypatch):
    monkeypatch.setattr(memo, "MAX_MARKUP_CHARS", 100)
    kept = memo.KeptMarkup()
    kept.keep((("a" * 30, 7, None), "b" * 10), "x" * 20)
    assert kept.chars == 60
    kept.keep((("c" * 30,), "d" * 10), "x" * 20)
    assert list(kept.markup) == [(("c" * 30,), "d" * 10)]
    assert kept.chars == 60


def test_each_app_has_its_own_markup_and_none_while_templates_reload(
    app, make_app, database_url
):
    with app.app_context():
        markup_store("test").keep("k", "<p>uno</p>")
        assert markup_store("test").get("k") == "<p>uno</p>"
        app.jinja_env.auto_reload = True
        assert markup_store("test").get("k") is None
    other = make_app(DATABASE_URL=database_url)
    with other.app_context():
        assert markup_store("test").get("k") is None
