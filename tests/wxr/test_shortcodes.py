"""WordPress's own shortcodes expanded at import; a plugin's left as text and
counted; nothing inside a tag touched."""

from __future__ import annotations

from collections import Counter

from bs4 import BeautifulSoup
from helpers_guard import hang_guard

from blog.core.sanitize.autop import clean_written_post
from blog.wxr.shortcodes import Attachment, Attachments, expand_shortcodes

SITE = "https://caffe.example.org"
FILES = Attachments(
    [
        Attachment(11, 5, f"{SITE}/uno.jpg", "Uno", "La prima & sola"),
        Attachment(12, 5, f"{SITE}/due.PNG", "Due"),
        Attachment(13, 6, f"{SITE}/altro.jpg", "Di un altro articolo"),
        Attachment(14, 5, "javascript:alert(1)", "Falso"),
        Attachment(15, 5, f"{SITE}/menu.pdf", "Il menu"),
    ]
)


def shown(content: str, post_id: int = 5) -> tuple[BeautifulSoup, Counter]:
    """The post body as the import stores it, parsed, and what was left."""
    left: Counter = Counter()
    body = clean_written_post(expand_shortcodes(content, post_id, FILES, left))
    return BeautifulSoup(body, "html.parser"), left


def images(page: BeautifulSoup) -> list[str]:
    return [img["src"] for img in page.find_all("img")]


def test_a_caption_of_an_older_export_comes_from_its_attribute():
    page, left = shown(
        '[caption id="attachment_1" align="alignleft" width="150" '
        'caption="Tazza &amp; piattino"]<img src="https://caffe.example.org/t.jpg" '
        'alt="" />[/caption]'
    )
    assert page.figure.img["src"] == f"{SITE}/t.jpg"
    assert page.figure.figcaption.get_text() == "Tazza & piattino"
    assert page.figure["class"] == ["alignleft"]  # floated as in WordPress
    assert left == Counter()


def test_a_caption_attribute_is_html_as_wordpress_shows_it():
    image = '<img src="https://caffe.example.org/t.jpg" />'
    page, _ = shown(
        "[caption caption='Foto di <a href=\"https://anna.example/\">Anna</a>']"
        f"{image}[/caption]"
    )
    assert page.figure.figcaption.a["href"] == "https://anna.example/"
    assert page.figure.figcaption.get_text() == "Foto di Anna"
    page, _ = shown(f'[caption caption="Si scrive &lt;em&gt;"]{image}[/caption]')
    assert page.figure.figcaption.get_text() == "Si scrive <em>"
    assert page.find("em") is None


def test_a_caption_without_an_image_keeps_its_text():
    page, _ = shown("[caption]Solo testo[/caption]")
    assert page.get_text() == "Solo testo"
    assert page.figure is None


def test_a_gallery_without_ids_shows_the_images_attached_to_its_post():
    page, _ = shown("[gallery columns='2']")
    # Not the menu.pdf attached beside them: a gallery shows images.
    assert images(page) == [f"{SITE}/uno.jpg", f"{SITE}/due.PNG"]
    assert [c.get_text() for c in page.find_all("figcaption")] == ["La prima & sola"]


def test_a_gallery_shows_the_named_images_in_their_order_and_no_unknown_one():
    page, _ = shown('[gallery ids="12,99,11,14,15"]')
    assert images(page) == [f"{SITE}/due.PNG", f"{SITE}/uno.jpg"]


def test_older_galleries_include_and_exclude():
    assert images(shown('[gallery include="11"]')[0]) == [f"{SITE}/uno.jpg"]
    assert images(shown('[gallery exclude="11"]')[0]) == [f"{SITE}/due.PNG"]


def test_a_gallery_whose_images_are_not_in_the_file_stays_and_is_counted():
    # An export of posts only holds no attachments.
    left: Counter = Counter()
    text = expand_shortcodes(
        'Prima [gallery ids="80,81"] dopo', 5, Attachments([]), left
    )
    assert text == 'Prima [gallery ids="80,81"] dopo'
    assert left == Counter({"[gallery] (its images are not in the file)": 1})


def test_audio_and_video_become_links_to_their_files():
    page, left = shown(
        f'[audio mp3="{SITE}/voce.mp3"][/audio]\n\n'
        f'[video width="640" mp4="{SITE}/film.mp4" poster="{SITE}/p.jpg"]\n\n'
        f"[audio {SITE}/blues.mp3]\n\n"  # the file written alone
        '[video src="javascript:alert(1)"]'
    )
    assert [a["href"] for a in page.find_all("a")] == [
        f"{SITE}/voce.mp3",
        f"{SITE}/film.mp4",
        f"{SITE}/blues.mp3",
    ]
    # No file it could play: left as text, and counted.
    assert '[video src="javascript:alert(1)"]' in page.get_text()
    assert left == Counter({"[video] (its file is not in the file)": 1})


def test_audio_without_a_file_plays_the_posts_first_audio_attachment():
    files = Attachments(
        [*FILES.by_id.values(), Attachment(16, 5, f"{SITE}/canzone.ogg", "Canzone")]
    )
    left: Counter = Counter()
    text = expand_shortcodes("[audio]", 5, files, left)
    assert f'href="{SITE}/canzone.ogg"' in text
    assert left == Counter()


def test_the_block_editors_players_become_links():
    page, _ = shown(
        f'<figure class="wp-block-audio"><audio controls src="{SITE}/a.ogg"></audio>'
        "</figure>\n\n"
        f'<figure><video controls><source src="{SITE}/v.webm" type="video/webm">'
        "</video><figcaption>Un video</figcaption></figure>"
    )
    assert [a["href"] for a in page.find_all("a")] == [
        f"{SITE}/a.ogg",
        f"{SITE}/v.webm",
    ]
    assert page.find("audio") is None and page.find("video") is None


def test_a_players_file_is_a_named_one_never_a_word_of_another_attribute():
    page, _ = shown(
        '[audio caption="ascolta https://altro.example/x.mp3 ora" src="rel.mp3"]',
        post_id=0,  # an item without an id: no attached file either
    )
    assert page.find("a") is None


def test_a_players_address_is_read_as_an_address_only():
    page, left = shown(f'<audio src="{SITE}/[video]/x.mp3"></audio>')
    assert [a["href"] for a in page.find_all("a")] == [f"{SITE}/[video]/x.mp3"]
    # A player whose file has no web address is counted, not kept.
    page, left = shown('<audio src="/wp-content/uploads/a.mp3"></audio>')
    assert page.find("a") is None
    assert left == Counter({"<audio>/<video> (a file with no web address)": 1})


def test_an_embed_of_no_web_address_stays_text():
    page, _ = shown("[embed]javascript:alert(1)[/embed]")
    assert page.find("a") is None
    assert page.get_text() == "javascript:alert(1)"


def test_an_address_inside_a_sentence_is_not_a_link_of_its_own():
    page, _ = shown(f"Vedi {SITE}/menu/ per il menu.\n\n{SITE}/orari/")
    assert [a["href"] for a in page.find_all("a")] == [f"{SITE}/orari/"]


def test_escaped_shortcodes_show_as_text_with_one_bracket_less():
    page, left = shown(
        'Si scrive [[caption]testo[/caption]] oppure [[gallery ids="1"]].'
    )
    assert page.get_text() == (
        'Si scrive [caption]testo[/caption] oppure [gallery ids="1"].'
    )
    assert page.find("figure") is None
    assert left == Counter()


def test_plugin_shortcodes_stay_as_written_and_are_counted():
    page, left = shown(
        '[sic] [contact-form-7 id="12"]\n\n[tabs][tab title="Uno"]a[/tab][/tabs]'
    )
    text = page.get_text()
    assert '[contact-form-7 id="12"]' in text and "[sic]" in text
    assert left == Counter({"[contact-form-7]": 1, "[tabs]": 1, "[tab]": 1})


def test_nothing_inside_a_tag_is_expanded():
    alt = "Guarda [video src=https://caffe.example.org/v.mp4] qui"
    body = (
        f'<img src="https://caffe.example.org/a.jpg" alt="{alt}">\n\n'
        '<a title="x\nhttps://evil.example/\n" href="https://ok.example/">ok</a>'
    )
    page, left = shown(body)
    assert page.img["alt"] == alt
    assert [a["href"] for a in page.find_all("a")] == ["https://ok.example/"]
    assert page.a.get_text() == "ok"
    assert left == Counter()


def test_long_attribute_runs_cost_linear_work():
    with hang_guard(5):
        left: Counter = Counter()
        for text in (
            "[gallery " + "a" * 200_000 + "]",
            "[caption " + "a" * 200_000 + "]<img src=x>[/caption]",
            "<p " + "a" * 200_000 + "\n" * 1000,
            "a < b " * 100_000,
        ):
            expand_shortcodes(text, 5, FILES, left)


def test_unclosed_shortcodes_cost_linear_work():
    text = "[caption]x " * 50_000 + "[gallery " * 50_000 + "[embed]" * 50_000
    with hang_guard(5):
        left: Counter = Counter()
        expanded = expand_shortcodes(text, 5, FILES, left)
    assert expanded.count("[caption]") == 50_000


def test_many_players_and_files_cost_linear_work():
    files = Attachments(Attachment(n, 5, f"{SITE}/f{n}.txt") for n in range(1, 20_001))
    with hang_guard(5):
        left: Counter = Counter()
        expand_shortcodes("[audio] [gallery] " * 50_000, 5, files, left)
    assert left["[audio] (its file is not in the file)"] == 50_000
