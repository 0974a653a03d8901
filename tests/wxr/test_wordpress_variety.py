"""What real WordPress exports hold beyond the classic post: block-editor
content, passwords, drafts without a slug, raw titles, WXR 1.0 tags, an https
namespace, comments sharing a second. Each case as WordPress writes it."""
# ruff: noqa: E501  (WordPress writes these long lines; kept as it writes them)

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from helpers_posts import add_post
from helpers_wxr import comment
from sqlalchemy import delete, func, select, update

from blog.extensions import db
from blog.models import Category, Comment, OldPath, Post, Tag
from blog.wxr import read_wxr

SITE = "https://caffe.example.org"
SEEDED = "chi-e-e-chi-non-e-il-community-manager"


def item(
    wp_id: int,
    title: str,
    slug: str,
    content: str = "<p>Testo.</p>",
    *,
    status: str = "publish",
    password: str = "",
    comments: str = "",
    tags: str = "",
    post_type: str = "post",
    parent: int = 0,
    attachment_url: str = "",
    link: str = "",
    guid: str = "",
    menu_order: int = 0,
    old_slugs: tuple[str, ...] = (),
) -> str:
    if not link:
        link = f"{SITE}/2019/05/{slug}/" if slug else f"{SITE}/?p={wp_id}"
    guid = guid or f"{SITE}/?p={wp_id}"
    # WordPress keeps each slug a post had before as a custom field.
    meta = "".join(
        f"""
		<wp:postmeta>
			<wp:meta_key><![CDATA[_wp_old_slug]]></wp:meta_key>
			<wp:meta_value><![CDATA[{old}]]></wp:meta_value>
		</wp:postmeta>"""
        for old in old_slugs
    )
    return f"""
	<item>
		<title><![CDATA[{title}]]></title>
		<link>{link}</link>
		<dc:creator><![CDATA[mario]]></dc:creator>
		<guid isPermaLink="false">{guid}</guid>
		<content:encoded><![CDATA[{content}]]></content:encoded>
		<excerpt:encoded><![CDATA[]]></excerpt:encoded>
		<wp:post_id>{wp_id}</wp:post_id>
		<wp:post_date><![CDATA[2019-05-0{wp_id % 9 + 1} 10:00:00]]></wp:post_date>
		<wp:post_date_gmt><![CDATA[2019-05-0{wp_id % 9 + 1} 08:00:00]]></wp:post_date_gmt>
		<wp:comment_status><![CDATA[open]]></wp:comment_status>
		<wp:ping_status><![CDATA[open]]></wp:ping_status>
		<wp:post_name><![CDATA[{slug}]]></wp:post_name>
		<wp:status><![CDATA[{status}]]></wp:status>
		<wp:post_type><![CDATA[{post_type}]]></wp:post_type>
		<wp:post_parent>{parent}</wp:post_parent>
		<wp:menu_order>{menu_order}</wp:menu_order>
		<wp:attachment_url><![CDATA[{attachment_url}]]></wp:attachment_url>
		<wp:post_password><![CDATA[{password}]]></wp:post_password>{tags}{meta}{comments}
	</item>"""


def export(
    *items: str, namespace: str = "http://wordpress.org/export/1.2/", terms: str = ""
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="{namespace}excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{namespace}">
<channel>
	<title>Il blog del caffè</title><link>{SITE}</link>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[mario]]></wp:author_login><wp:author_email><![CDATA[mario@example.org]]></wp:author_email><wp:author_display_name><![CDATA[Mario Rossi]]></wp:author_display_name></wp:author>{terms}
{"".join(items)}
</channel>
</rss>"""


@pytest.fixture
def import_text(runner, tmp_path):
    def run(text: str) -> str:
        path = tmp_path / "export.xml"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["import-wxr", str(path)])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def body_of(app, slug: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Post.body).where(Post.slug == slug))


BLOCKS = """<!-- wp:paragraph -->
<p>Primo paragrafo.</p>
<!-- /wp:paragraph -->

<!-- wp:list -->
<ul><li>uno</li>

<li>due</li></ul>
<!-- /wp:list -->

<!-- wp:code -->
<pre class="wp-block-code"><code>def f():

    return 1</code></pre>
<!-- /wp:code -->"""


def test_block_editor_content_keeps_its_own_markup(app, import_text):
    import_text(export(item(30, "Post Gutenberg", "post-gutenberg", BLOCKS)))
    body = body_of(app, "post-gutenberg")
    assert "<p>Primo paragrafo.</p>" in body
    assert "<ul><li>uno</li>" in body and "<li>due</li></ul>" in body
    assert "<pre><code>def f():\n\n    return 1</code></pre>" in body
    assert "<p></p>" not in body and "<br>" not in body


def test_a_classic_pre_keeps_its_blank_lines(app, import_text):
    classic = "Prima riga.\n\n<pre>codice\n\naltro codice</pre>\n\nDopo."
    import_text(export(item(31, "Classico", "classico", classic)))
    assert body_of(app, "classico") == (
        "<p>Prima riga.</p>\n<pre>codice\n\naltro codice</pre>\n<p>Dopo.</p>"
    )


def test_a_password_protected_post_waits_as_a_draft(app, client, import_text):
    output = import_text(
        export(
            item(40, "Riservato", "riservato", "<p>Solo per pochi.</p>", password="x")
        )
    )
    assert "kept as drafts, password-protected posts: 1" in output
    with app.app_context():
        assert db.session.scalar(
            select(Post.status).where(Post.slug == "riservato")
        ) == ("draft")
    assert client.get("/riservato/").status_code == 404
    assert "Solo per pochi" not in client.get("/feed/").get_data(as_text=True)
    # Its old number leads nowhere else either.
    assert client.get("/?p=40").status_code == 404


def test_drafts_without_a_slug_stay_apart_and_are_found_again(app, import_text):
    text = export(
        item(
            18,
            "Bozza",
            "",
            status="draft",
            comments=comment(1, "Anna", "2019-05-01 10:00:00", "a"),
        ),
        item(
            31,
            "Bozza",
            "",
            status="draft",
            comments=comment(2, "Bea", "2019-05-02 10:00:00", "b"),
        ),
        item(33, "Bozza", "bozza", status="publish"),
    )
    output = import_text(text)
    assert "posts: 3 added" in output
    with app.app_context():
        bozze = Post.slug.like("bozza%")
        slugs = sorted(db.session.scalars(select(Post.slug).where(bozze)))
        assert slugs == ["bozza", "bozza-2", "bozza-3"]
        per_post = db.session.execute(
            select(Post.slug, func.count(Comment.id))
            .join(Comment, Comment.post_id == Post.id)
            .where(bozze)
            .group_by(Post.slug)
        ).all()
    assert len(per_post) == 2 and all(count == 1 for _, count in per_post)
    again = import_text(text)
    assert "posts: 0 added, 3 already present" in again
    assert "comments: 0 added, 2 already present" in again


def test_a_post_renamed_since_is_found_by_its_old_addresses(app, import_text):
    text = export(
        item(
            30,
            "Post Gutenberg",
            "post-gutenberg",
            comments=comment(5, "Anna", "2019-05-01 10:00:00", "a"),
        )
    )
    import_text(text)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "post-gutenberg"))
        post.slug = "gutenberg-nuovo"
        db.session.commit()
    assert "posts: 0 added, 1 already present" in import_text(text)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Post.id)).where(Post.title == "Post Gutenberg")
            )
            == 1
        )


def test_a_post_renamed_and_retitled_in_wordpress_is_found_by_its_old_slug(
    client, import_text
):
    # A later export names it anew everywhere but in _wp_old_slug, which
    # WordPress keeps for the redirect: the same post, not a second one.
    anna = comment(5, "Anna", "2019-05-01 10:00:00", "a")
    import_text(
        export(item(30, "Perché l'università", "perche-luniversita", comments=anna))
    )
    renamed = item(
        30,
        "Università: perché",
        "universita-perche",
        old_slugs=("perche-luniversita",),
        comments=anna,
    )
    output = import_text(export(renamed))
    assert "posts: 0 added, 1 already present" in output
    assert "comments: 0 added, 1 already present" in output
    response = client.get("/2019/05/universita-perche/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/perche-luniversita/"


def test_old_name_queries_find_the_page_by_its_whole_path_and_old_slugs(
    app, client, import_text
):
    # Two child pages named "prezzi": ?pagename= names one by its parent.
    import_text(
        export(
            item(60, "Servizi", "servizi", post_type="page"),
            item(
                61,
                "Prezzi servizi",
                "prezzi",
                post_type="page",
                parent=60,
                link=f"{SITE}/servizi/prezzi/",
            ),
            item(62, "Corsi", "corsi", post_type="page"),
            item(
                63,
                "Prezzi corsi",
                "prezzi",
                post_type="page",
                parent=62,
                link=f"{SITE}/corsi/prezzi/",
            ),
            item(64, "Ciao", "ciao-mondo", old_slugs=("ciao",)),
        )
    )
    with app.app_context():
        slug_of = dict(db.session.execute(select(Post.title, Post.slug)).all())
    for query, title in (
        ("/?pagename=corsi/prezzi", "Prezzi corsi"),
        ("/?pagename=servizi/prezzi/", "Prezzi servizi"),
        ("/?name=ciao", "Ciao"),
    ):
        response = client.get(query)
        assert response.status_code == 301, query
        assert response.headers["Location"] == f"/{slug_of[title]}/", query


def test_old_archive_addresses_of_non_ascii_terms_lead_to_them(
    app, client, import_text
):
    # WordPress keeps "caffè" and "новости" in its slugs; here they are ASCII
    # (or a hash): the old addresses move to the new ones.
    terms = (
        '\n\t\t<category domain="category" nicename="%d0%bd%d0%be%d0%b2%d0%be'
        '%d1%81%d1%82%d0%b8"><![CDATA[Новости]]></category>'
        '\n\t\t<category domain="post_tag" nicename="caff%c3%a8">'
        "<![CDATA[Caffè]]></category>"
    )
    # As WordPress lists every term at the head of the file, too.
    listed = (
        "<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>%d0%bd%d0%be"
        "%d0%b2%d0%be%d1%81%d1%82%d0%b8</wp:category_nicename><wp:category_parent>"
        "</wp:category_parent><wp:cat_name><![CDATA[Новости]]></wp:cat_name>"
        "</wp:category><wp:tag><wp:term_id>4</wp:term_id><wp:tag_slug>caff%c3%a8"
        "</wp:tag_slug><wp:tag_name><![CDATA[Caffè]]></wp:tag_name></wp:tag>"
    )
    text = export(item(45, "Notizie", "notizie", tags=terms), terms=listed)
    import_text(text)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "notizie"))
        category, tag = post.categories[0].slug, post.tags[0].slug
    assert tag == "caffe" and category.startswith("categoria-")
    for old, new in (
        (
            "/category/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/",
            f"/category/{category}/",
        ),
        ("/tag/caff%C3%A8/?page=2", "/tag/caffe/?page=2"),
        ("/?tag=caff%C3%A8", "/tag/caff%C3%A8/"),
    ):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == new, old
    assert client.get("/tag/tè/").status_code == 404
    # Imported before the slug was kept: a second import fills it in.
    with app.app_context():
        for model in (Category, Tag):
            db.session.execute(update(model).values(wp_slug=None))
        db.session.commit()
    assert client.get("/tag/caff%C3%A8/").status_code == 404
    output = import_text(text)
    assert "tags: 0 added, 1 already present" in output
    assert client.get("/tag/caff%C3%A8/").headers["Location"] == "/tag/caffe/"
    category_page = f"/category/{quote('новости')}/"
    assert client.get(category_page).headers["Location"] == f"/category/{category}/"


def test_a_wordpress_number_the_export_lacks_names_no_imported_post(
    client, app, import_text
):
    # WordPress's ?p=N of a post deleted there: not whichever imported post
    # has the number N here, which WordPress numbered otherwise.
    import_text(export(item(40, "Quaranta", "quaranta")))
    with app.app_context():
        here = db.session.scalar(select(Post.id).where(Post.slug == "quaranta"))
    assert here != 40
    assert client.get("/?p=40").headers["Location"] == "/quaranta/"
    assert client.get(f"/?p={here}").status_code == 404
    # A post written here keeps its own number (its feed's guid).
    add_post(app, "nostro", datetime(2020, 1, 1))
    with app.app_context():
        ours = db.session.scalar(select(Post.id).where(Post.slug == "nostro"))
    assert client.get(f"/?p={ours}").headers["Location"] == "/nostro/"


def test_two_comments_of_one_writer_in_one_second_are_both_kept(app, import_text):
    same_second = comment(116, "Anonimo", "2019-05-01 10:00:00", "primo") + comment(
        117, "Anonimo", "2019-05-01 10:00:00", "secondo"
    )
    text = export(item(50, "Commentato", "commentato", comments=same_second))
    assert "comments: 2 added, 0 already present" in import_text(text)
    assert "comments: 0 added, 2 already present" in import_text(text)
    # An older release kept only the first: importing again brings the second.
    with app.app_context():
        db.session.execute(delete(Comment).where(Comment.legacy_id == 117))
        db.session.commit()
    assert "comments: 1 added, 1 already present" in import_text(text)
    with app.app_context():
        kept = db.session.scalars(select(Comment.content).where(Comment.legacy_id > 0))
        assert sorted(kept) == ["primo", "secondo"]


def test_a_comment_without_a_date_takes_its_posts(app, import_text):
    undated = (
        comment(7, "Anna", "2019-05-01 10:00:00", "senza data")
        .replace("2019-05-01 10:00:00", "0000-00-00 00:00:00")
        .replace("2019-05-01 12:00:00", "0000-00-00 00:00:00")
    )
    assert "comments: 1 added" in import_text(
        export(item(51, "Datato", "datato", comments=undated))
    )


def test_a_date_given_only_in_local_time_is_read_in_the_blogs_zone(app, import_text):
    # A draft's GMT date is 0000-00-00: its local one, 10:00 in May in Rome,
    # is 08:00 UTC, not 10:00.
    draft = item(52, "Bozza locale", "bozza-locale", status="draft").replace(
        "<wp:post_date_gmt><![CDATA[2019-05-08 08:00:00]]>",
        "<wp:post_date_gmt><![CDATA[0000-00-00 00:00:00]]>",
    )
    assert "0000-00-00" in draft
    import_text(export(draft))
    with app.app_context():
        stored = db.session.scalar(
            select(Post.created_at).where(Post.title == "Bozza locale")
        )
    assert stored == datetime(2019, 5, 8, 8, 0)


def test_raw_titles_become_text(app, import_text):
    import_text(
        export(
            item(60, "Title &lt;em&gt;With&lt;/em&gt; &amp; Markup &#8217;ok", "titolo")
        )
    )
    with app.app_context():
        title = db.session.scalar(select(Post.title).where(Post.slug == "titolo"))
    assert title == "Title With & Markup \u2019ok"


def test_wxr_1_0_tags_and_an_https_namespace_are_read(app, import_text):
    # WXR 1.0 writes each tag twice, the second time without its nicename.
    tag = (
        '\n\t\t<category domain="tag"><![CDATA[Espresso]]></category>'
        '\n\t\t<category domain="tag" nicename="espresso"><![CDATA[Espresso]]></category>'
    )
    output = import_text(
        export(
            item(70, "Taggato", "taggato", tags=tag),
            namespace="https://wordpress.org/export/1.0/",
        )
    )
    assert "tags: 1 added" in output
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "taggato"))
        assert [t.slug for t in post.tags] == ["espresso"]


def test_a_post_published_without_a_date_is_dated_at_the_import(
    app, client, import_text
):
    undated = item(71, "Senza data", "senza-data")
    for field in ("post_date", "post_date_gmt"):
        undated = re.sub(rf"\s*<wp:{field}>.*?</wp:{field}>", "", undated)
    import_text(export(undated))
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "senza-data"))
        assert post.published_at is not None
    assert client.get("/senza-data/").status_code == 200


def test_a_later_post_with_a_drafts_numbered_slug_is_a_post_of_its_own(
    app, import_text
):
    # The draft without a slug became "ciao-2"; WordPress later publishes
    # another "Ciao" as "ciao-2".
    first = export(item(10, "Ciao", "ciao"), item(11, "Ciao", "", status="draft"))
    import_text(first)
    later = export(
        item(10, "Ciao", "ciao"),
        item(11, "Ciao", "", status="draft"),
        item(
            12,
            "Ciao",
            "ciao-2",
            comments=comment(900, "Anna", "2019-05-03 10:00:00", "x"),
        ),
    )
    assert "posts: 1 added, 2 already present" in import_text(later)
    with app.app_context():
        rows = db.session.execute(
            select(Post.slug, Post.status).where(Post.title == "Ciao").order_by(Post.id)
        ).all()
        commented = db.session.scalar(
            select(Post.status)
            .join(Comment, Comment.post_id == Post.id)
            .where(Comment.legacy_id == 900)
        )
    assert rows == [
        ("ciao", "published"),
        ("ciao-2", "draft"),
        ("ciao-2-2", "published"),
    ]
    assert commented == "published"


def test_an_untitled_draft_is_found_again(app, import_text):
    text = export(item(50, "", "", status="draft"))
    import_text(text)
    assert "posts: 0 added, 1 already present" in import_text(text)


def test_an_id_from_another_source_does_not_stand_for_another_comment(app, import_text):
    # This blog's own export writes its own ids: a WordPress comment with the
    # same number but another writer is another comment.
    import_text(
        export(
            item(
                20,
                "Uno",
                "uno",
                comments=comment(3, "Anna", "2019-05-01 10:00:00", "a"),
            )
        )
    )
    text = export(
        item(20, "Uno", "uno", comments=comment(3, "Bruno", "2019-05-02 10:00:00", "b"))
    )
    assert "comments: 1 added" in import_text(text)


CAPTIONED = f"""Il nostro bar.

[caption id="attachment_71" align="alignright" width="300"]<a href="{SITE}/bar.jpg"><img src="{SITE}/bar-300.jpg" alt="Il bancone" width="300" height="200" /></a> Il bancone, <em>di mattina</em>[/caption]

[gallery ids="72,73"]

[embed]https://video.example.org/v/42?a=1&amp;b=2[/embed]

https://www.youtube.com/watch?v=abc

[contact-form-7 id="12" title="Contatti"]"""


def tazzina(**fields) -> str:
    """Attachment 72, a photo of post 70 ("Il bar")."""
    return item(72, "Tazzina", "tazzina", post_type="attachment", parent=70, **fields)


def test_wordpress_shortcodes_become_what_they_showed(app, client, import_text):
    output = import_text(
        export(
            item(70, "Il bar", "il-bar", CAPTIONED),
            tazzina(attachment_url=f"{SITE}/tazzina.jpg"),
            item(
                73,
                "Moka &amp; fornello",
                "moka",
                post_type="attachment",
                parent=70,
                attachment_url=f"{SITE}/moka.jpg",
            ),
        )
    )
    assert "shortcode left as text, [contact-form-7]: 1" in output
    page = BeautifulSoup(client.get("/il-bar/").get_data(as_text=True), "html.parser")
    body = page.select_one(".post-body")
    figures = body.find_all("figure")
    assert figures[0].img["src"] == f"{SITE}/bar-300.jpg"
    assert figures[0].a["href"] == f"{SITE}/bar.jpg"
    assert figures[0].figcaption.get_text() == "Il bancone, di mattina"
    assert [(f.img["src"], f.img["alt"]) for f in figures[1:]] == [
        (f"{SITE}/tazzina.jpg", "Tazzina"),
        (f"{SITE}/moka.jpg", "Moka & fornello"),
    ]
    links = [a["href"] for a in body.find_all("a") if not a.find("img")]
    assert links == [
        "https://video.example.org/v/42?a=1&b=2",
        "https://www.youtube.com/watch?v=abc",
    ]
    text = body.get_text()
    assert "[caption" not in text and "[gallery" not in text and "[embed" not in text
    assert '[contact-form-7 id="12" title="Contatti"]' in text


def test_an_attachments_page_leads_to_its_post(app, client, import_text):
    import_text(
        export(
            item(70, "Il bar", "il-bar"),
            tazzina(
                link=f"{SITE}/2019/05/il-bar/tazzina/",
                guid=f"{SITE}/wp-content/uploads/tazzina.jpg",
                attachment_url=f"{SITE}/wp-content/uploads/tazzina.jpg",
            ),
            # An attachment of no post of the file leads nowhere.
            item(74, "Sola", "sola", post_type="attachment", parent=999),
        )
    )
    client.get("/")  # the home page kept: the queries must still reach Flask
    for old in ("/2019/05/il-bar/tazzina/", "/?attachment_id=72", "/?p=72"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == "/il-bar/", old
    # The file's own address is not a page of the post; nor is a number no
    # attachment had, whatever post of ours has it.
    assert client.get("/wp-content/uploads/tazzina.jpg").status_code == 404
    for missing in ("/?attachment_id=74", "/?attachment_id=1"):
        assert client.get(missing).status_code == 404, missing


def page_item(
    wp_id: int, title: str, slug: str, guid: str = "", menu_order: int = 0
) -> str:
    """A WordPress page: its permalink at the root, its guid ``?page_id=N``."""
    return item(
        wp_id,
        title,
        slug,
        f"<p>{title}.</p>",
        post_type="page",
        link=f"{SITE}/{slug}/",
        guid=guid or f"{SITE}/?page_id={wp_id}",
        menu_order=menu_order,
    )


def test_another_blogs_page_with_the_same_number_is_a_page_of_its_own(
    app, client, import_text
):
    # Every WordPress blog has a page 2, its sample page.
    import_text(export(page_item(2, "Pagina di esempio", "pagina-di-esempio")))
    output = import_text(export(page_item(2, "Chi sono", "chi-sono")))
    assert "pages: 1 added, 0 already present" in output
    assert "Chi sono." in client.get("/chi-sono/").get_data(as_text=True)
    assert "Pagina di esempio." in client.get("/pagina-di-esempio/").get_data(
        as_text=True
    )


def test_a_pages_number_leads_to_it_whatever_its_guid(client, import_text):
    # Pages made by wp-cli or the REST API carry their permalink as guid.
    import_text(export(page_item(9, "Contatti", "contatti", guid=f"{SITE}/contatti/")))
    for old in ("/?page_id=9", "/?p=9"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith("/contatti/"), old


def test_a_page_and_an_article_with_the_same_slug_are_two(app, client, import_text):
    # WordPress allows it: /2019/05/chi-siamo/ is the article, /chi-siamo/ the page.
    output = import_text(
        export(
            item(10, "Chi siamo (articolo)", "chi-siamo", "<p>Articolo.</p>"),
            page_item(2, "Chi siamo", "chi-siamo"),
        )
    )
    assert "posts: 1 added" in output and "pages: 1 added" in output
    with app.app_context():
        kinds = db.session.execute(
            select(Post.kind, Post.slug).order_by(Post.kind)
        ).all()
    # The article comes first in the file and keeps the slug.
    assert [k for k in kinds if k[1].startswith("chi-siamo")] == [
        ("page", "chi-siamo-2"),
        ("post", "chi-siamo"),
    ]
    moved = client.get("/?page_id=2")
    assert "Chi siamo." in client.get(moved.headers["Location"]).get_data(as_text=True)


def test_a_wordpress_address_equal_to_ours_is_kept_for_a_later_rename(
    app, client, import_text
):
    # A blog with "post name" permalinks: /ciao/ was its address there and is
    # here; renamed here later, the old links must still land.
    import_text(
        export(item(57, "Ciao", "ciao", link=f"{SITE}/ciao/", guid=f"{SITE}/ciao/"))
    )
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "ciao"))
        post.slug = "ciao-mondo"
        db.session.commit()
    response = client.get("/ciao/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/ciao-mondo/")


def test_a_page_whose_slug_has_no_latin_letter_gets_one_and_keeps_its_link(
    app, client, import_text
):
    greek = "%ce%b5%cf%80%ce%af%cf%80%ce%b5%ce%b4%ce%bf-2"  # "επίπεδο-2"
    page = page_item(1811, "Επίπεδο 2", greek).replace(
        f"<link>{SITE}/{greek}/</link>", f"<link>{SITE}//greek/{greek}/</link>"
    )
    import_text(export(page))
    with app.app_context():
        slug = db.session.scalar(select(Post.slug).where(Post.kind == "page"))
    assert slug == "pagina-1811"  # not "2", which reads as a year
    assert client.get(f"/{slug}/").status_code == 200
    for old in ("/greek/επίπεδο-2/", "/?page_id=1811"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith(f"/{slug}/"), old


def test_posts_without_a_creator_are_admins_counted_once(import_text):
    def anonymous(wp_id: int) -> str:
        return item(wp_id, f"Anonimo {wp_id}", f"anonimo-{wp_id}").replace(
            "<dc:creator><![CDATA[mario]]></dc:creator>", ""
        )

    output = import_text(export(anonymous(80), anonymous(81), anonymous(82)))
    assert "authors: 2 added, 0 already present" in output  # mario, and admin once


def test_pages_keep_their_menu_order_through_import_and_export(
    client, runner, import_text, tmp_path
):
    import_text(
        export(
            page_item(3, "Alfa", "alfa", menu_order=2),
            page_item(4, "Zeta", "zeta", menu_order=1),
        )
    )
    menu = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    assert [a.get_text() for a in menu.select("nav.site-pages a")] == ["Zeta", "Alfa"]
    out = tmp_path / "out.xml"
    assert runner.invoke(args=["export-wxr", str(out)]).exit_code == 0
    orders = {p.slug: p.menu_order for p in read_wxr(str(out)).posts}
    assert (orders["alfa"], orders["zeta"]) == (2, 1)


def test_an_imported_slug_the_blogs_own_pages_use_is_not_taken(
    app, client, import_text
):
    # A WordPress post named "feed" would be shadowed by the blog's feed.
    import_text(export(item(90, "Il feed", "feed", "<p>Sul feed.</p>")))
    with app.app_context():
        slug = db.session.scalar(select(Post.slug).where(Post.title == "Il feed"))
    assert slug == "il-feed"
    assert "Sul feed." in client.get(f"/{slug}/").get_data(as_text=True)


def test_a_renamed_posts_old_slugs_lead_to_it(client, import_text):
    # WordPress sends an old slug's readers on (wp_old_slug_redirect): at the
    # permalink it had, and alone.
    text = export(
        item(40, "Ciao", "ciao-mondo", old_slugs=("ciao", "caff%c3%a8-vecchio"))
    )
    import_text(text)
    for old in (
        "/2019/05/ciao/",
        "/ciao/",
        "/2019/05/caff%C3%A8-vecchio/",
        "/caff%C3%A8-vecchio/",
    ):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == "/ciao-mondo/", old
    assert "old addresses: 0 added" in import_text(text)


def test_an_old_slug_does_not_shadow_another_posts_slug(app, import_text):
    # WordPress looks old slugs up only where no post has the slug now.
    seed = "il-content-manager-braccio-destro"  # a post of this blog's
    import_text(
        export(
            item(41, "Nuovo", "nuovo", old_slugs=("ciao", seed)),
            item(42, "Ciao", "ciao"),
        )
    )
    with app.app_context():
        rows = db.session.execute(
            select(OldPath.path, Post.slug).join(Post, OldPath.post_id == Post.id)
        )
        paths = dict(rows.all())
    assert paths["/2019/05/ciao"] == "ciao"
    assert "/ciao" not in paths
    # Nor a slug a post here has, which it may change later.
    assert f"/{seed}" not in paths
    assert paths[f"/2019/05/{seed}"] == "nuovo"


def test_entities_in_names_become_text(app, import_text):
    # WordPress stores "&" in names (a reader's, a term's, an author's) as
    # "&amp;", and titles pingbacks with "&laquo;" and "&#8217;".
    responses = comment(
        5,
        "Ping 1 &laquo; What&#8217;s a tellyworth?",
        "2019-05-01 10:00:00",
        "[&#8230;] un rimando [&#8230;]",
        kind="pingback",
        url="https://tellyworth.example.net/ping-1/",
    ) + comment(6, "Tom &amp; Jerry", "2019-05-01 11:00:00", "Ciao.")
    terms = (
        '\n\t\t<category domain="category" nicename="caffe-espresso">'
        "<![CDATA[Caffè &amp; espresso]]></category>"
        '\n\t\t<category domain="post_tag" nicename="latte-caffe">'
        "<![CDATA[Latte &amp; caffè]]></category>"
    )
    text = export(item(44, "Nomi", "nomi", tags=terms, comments=responses))
    import_text(text.replace("Mario Rossi", "Rossi &amp; figli"))
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "nomi"))
        comments = db.session.scalars(select(Comment).where(Comment.post == post))
        names = {c.type: (c.author_name, c.source_title) for c in comments}
        assert names == {
            "pingback": ("Ping 1 « What’s a tellyworth?",) * 2,
            "comment": ("Tom & Jerry", ""),
        }
        assert [c.name for c in post.categories] == ["Caffè & espresso"]
        assert [t.name for t in post.tags] == ["Latte & caffè"]
        assert post.author.display_name == "Rossi & figli"
    output = import_text(text)
    assert "comments: 0 added" in output and "pingbacks: 0 added" in output


def test_names_an_earlier_import_kept_raw_are_found_again(app, import_text):
    # Imports before names were made text stored "Tom &amp; Jerry".
    responses = comment(6, "Tom &amp; Jerry", "2019-05-01 11:00:00", "Ciao.")
    responses += comment(0, "Gianni &amp; Pinotto", "2019-05-01 12:00:00", "Senza id.")
    text = export(item(45, "Nomi", "nomi", comments=responses))
    import_text(text)
    with app.app_context():
        raw = select(Comment).join(Post).where(Post.slug == "nomi")
        for stored in db.session.scalars(raw):
            stored.author_name = stored.author_name.replace("&", "&amp;")
        db.session.commit()
    assert "comments: 0 added, 2 already present" in import_text(text)


def test_values_past_the_columns_are_cut_on_both_databases(app, import_text):
    # PostgreSQL refused the whole file for one of them, naming no item
    # ("value too long", "integer out of range"); SQLite stored them, and
    # copy-db to PostgreSQL failed later.
    title = " ".join(["Titolo lunghissimo"] * 25)
    name = " ".join(["Lettore"] * 40)
    responses = comment(99999999999, name, "2019-05-01 10:00:00", "Lungo.")
    site = f"https://{'lungo' * 60}.example.net/"  # past the column: dropped
    responses += comment(8, "Con sito", "2019-05-01 11:00:00", "Sito.", url=site)
    email = f"{'lettore' * 20}@example.org"
    responses = responses.replace("lettore8@example.org", email)
    text = export(
        item(46, title, "lungo", comments=responses),
        item(47, title, "", status="draft"),  # found again by its ?p= and title
        item(49, title, "", status="draft"),  # a slug as long, made free
        page_item(48, "Menu", "menu", menu_order=99999999999),
    )
    text = text.replace("Mario Rossi", " ".join(["Mario Rossi"] * 20))
    text = text.replace("mario", "mario" * 20)  # the login, in WordPress up to 60
    import_text(text)
    with app.app_context():
        titles = db.session.scalars(
            select(Post.title).where(Post.title.startswith("Titolo"))
        ).all()
        [stored] = db.session.scalars(
            select(Comment).where(Comment.content == "Lungo.")
        )
        page = db.session.scalar(select(Post).where(Post.slug == "menu"))
        assert titles == [title[:300]] * 3
        assert (stored.author_name, stored.legacy_id) == (name[:245], None)
        with_site = db.session.execute(
            select(Comment.author_url, Comment.author_email).where(
                Comment.legacy_id == 8
            )
        )
        assert list(with_site) == [("", email[:100])]
        assert page.menu_order == 0
        assert page.author.display_name == " ".join(["Mario Rossi"] * 20)[:120]
        assert page.author.username == ("mario" * 20)[:60]
        slugs = db.session.scalars(select(Post.slug).where(Post.status == "draft"))
        assert [len(slug) for slug in slugs] == [200, 200]
    output = import_text(text)
    assert "posts: 0 added, 3 already present" in output
    assert "comments: 0 added, 2 already present" in output


@pytest.mark.parametrize(
    ("login", "archive"),
    [("mario", "/author/mario/"), ("M.Rossi_it", "/author/m-rossi_it/")],
)
def test_an_authors_wordpress_archive_is_their_archive_here(
    client, import_text, login, archive
):
    # WordPress serves /author/<user_nicename>/, made from the login
    # (sanitize_title: "." a dash, "_" kept), whatever the display name.
    import_text(export(item(91, "Da lui", "da-lui")).replace("mario", login))
    response = client.get(archive)
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.select_one("h1").get_text(strip=True).endswith("Mario Rossi")
    assert page.select_one(".post-title a[href='/da-lui/']")


def test_the_summary_counts_images_still_served_by_another_site(app, import_text):
    images = (
        f'<p><img src="{SITE}/wp-content/uploads/2019/05/a.jpg" alt="a"></p>'
        f'<p><img alt="b" src="{SITE}/wp-content/uploads/2019/05/b.jpg"></p>'
        '<p><img src="https://i0.wp.com/caffe.example.org/c.jpg" alt="c"></p>'
        '<p><img src="/static/d.png" alt="d"></p>'
    )
    output = import_text(export(item(90, "Foto", "foto", images)))
    assert "images still served by caffe.example.org: 2 " in output
    assert "images still served by i0.wp.com: 1 " in output
    assert output.count("images still served by") == 2


def test_a_post_here_sharing_a_slug_is_not_taken_for_the_files(
    app, client, import_text
):
    add_post(app, "giugno", datetime(2024, 1, 1), title="Il mio giugno")
    output = import_text(export(item(40, "Giugno", "giugno", "<p>Di WordPress.</p>")))
    assert (
        "slug taken (here, or earlier in the file), imported as giugno-2: giugno"
        in output
    )
    assert "posts: 1 added, 0 already present" in output
    assert "Di WordPress." in body_of(app, "giugno-2")
    assert "Testo." in body_of(app, "giugno")
    for old in (f"{SITE}/2019/05/giugno/", f"{SITE}/?p=40"):
        moved = client.get(old.removeprefix(SITE))
        assert moved.status_code == 301, old
        assert moved.headers["Location"] == "/giugno-2/"


def test_a_post_here_with_the_files_title_is_the_same_post(app, import_text):
    add_post(app, "giugno", datetime(2024, 1, 1), title="Giugno")
    output = import_text(export(item(40, "Giugno", "giugno", "<p>Di WordPress.</p>")))
    assert "posts: 0 added, 1 already present" in output


def test_the_seeded_posts_comments_gain_their_old_anchors(app, client, import_text):
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == SEEDED))
        first = db.session.scalar(
            select(Comment)
            .where(Comment.post_id == post.id, Comment.type == "comment")
            .order_by(Comment.created_at)
        )
        name, date = first.author_name, first.created_at.strftime("%Y-%m-%d %H:%M:%S")
        title, first_id = post.title, first.id
    old = item(7, title, SEEDED, comments=comment(501, name, date, "Il suo testo."))
    output = import_text(export(old))
    assert "comments: 0 added, 1 already present" in output
    page = BeautifulSoup(
        client.get(f"/{SEEDED}/").get_data(as_text=True), "html.parser"
    )
    assert page.select_one("#comment-501") is not None  # the old link's anchor
    response = client.get(f"/comment/{first_id}/")  # our own permalink still
    assert response.headers["Location"].endswith("#comment-501")


def test_a_post_dated_ahead_comes_in_as_a_draft(app, import_text):
    # Published with a date to come, it would head the home page and the
    # feeds until then; the editor refuses such a date, and the import says so.
    ahead = item(53, "Dal futuro", "dal-futuro").replace(
        "2019-05-09 08:00:00", "2099-05-09 08:00:00"
    )
    assert "2099-05-09 08:00:00" in ahead
    output = import_text(export(ahead))
    assert "kept as drafts, posts dated in the future: 1" in output
    with app.app_context():
        status = db.session.scalar(select(Post.status).where(Post.slug == "dal-futuro"))
    assert status == "draft"
