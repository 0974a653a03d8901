"""The author moderates from the queue and the public page follows, in chromium."""

from __future__ import annotations

import uuid

from .conftest import sign_in
from .test_reader_flows import POST, fill_comment

ATTACKS = [
    "<script>window.__xss = 1; alert(1)</script>",
    '<img src=x onerror="window.__xss = 2; alert(2)">',
    '<a href="javascript:window.__xss=3">clicca</a>',
    '<a href="jav&#x09;ascript:alert(4)">tab</a>',
    "<svg><script>alert(5)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(6)>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==">d</a>',
    '<b onmouseover="alert(8)">passa qui</b>',
    '<q cite="javascript:alert(9)">citazione</q>',
    "<<script>script>alert(10)<</script>/script>",
    '<a href="  JaVaScRiPt:alert(11)">maiuscole</a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(12)>">',
    '<iframe srcdoc="<script>alert(13)</script>"></iframe>',
    '"><style>body{display:none}</style>',
]

# What would betray an attack that got through: a flag its script set, script or
# style elements, event-handler attributes, links with another scheme.
INSPECT_COMMENTS = """() => {
  const all = [...document.querySelectorAll('#comments *')];
  const urls = all.flatMap(el => ['href', 'cite', 'src']
    .map(name => el.getAttribute(name)).filter(v => v !== null));
  return {
    xss: window.__xss || null,
    scripts: all.filter(el => el.tagName === 'SCRIPT').length,
    handlers: all.flatMap(el => [...el.attributes].map(a => a.name))
      .filter(name => name.startsWith('on')),
    badLinks: urls.filter(v => !/^(https?:|mailto:|#|\\/)/i.test(v)),
    styles: all.filter(el => el.tagName === 'STYLE' || el.hasAttribute('style'))
      .length,
  };
}"""


def post_as_reader(browser, base_url: str, text: str) -> None:
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(base_url + POST)
    fill_comment(page, text)
    page.click("#submit")
    page.wait_for_load_state()
    context.close()


def public_text(browser, base_url: str) -> str:
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(base_url + POST + "comment-page-2/")
    text = page.inner_text("#comments")
    page.goto(base_url + POST)
    text += page.inner_text("#comments")
    context.close()
    return text


def queue_row(page, text: str):
    return page.locator("li.response", has_text=text)


def test_author_approves_replies_and_marks_spam(browser, live_server, author_page):
    page, base = author_page, live_server.url
    good, bad = (
        f"Ottimo articolo {uuid.uuid4().hex[:8]}",
        f"Spam {uuid.uuid4().hex[:8]}",
    )
    post_as_reader(browser, base, good)
    post_as_reader(browser, base, bad)
    assert good not in public_text(browser, base)

    page.goto(base + "/admin/comments?view=pending")
    queue_row(page, good).locator("button.action-approve").click()
    page.wait_for_load_state()
    assert "view=pending" in page.url  # the list keeps its place
    assert good in public_text(browser, base)

    page.goto(base + "/admin/comments")
    row = queue_row(page, good)
    row.locator("summary", has_text="Rispondi").click()
    reply = f"Grazie del commento {uuid.uuid4().hex[:6]}"
    row.locator("textarea[id^=reply-]").fill(reply)
    row.locator("form[action$='/reply'] button").click()
    page.wait_for_load_state()
    shown = public_text(browser, base)
    assert reply in shown

    page.goto(base + "/admin/comments?view=pending")
    queue_row(page, bad).locator("button.action-spam").click()
    page.wait_for_load_state()
    page.goto(base + "/admin/comments?view=spam")
    assert queue_row(page, bad).count() == 1
    assert bad not in public_text(browser, base)


def test_approved_attack_strings_do_not_run(browser, live_server, author_page):
    base = live_server.url
    marker = uuid.uuid4().hex[:8]
    for number, attack in enumerate(ATTACKS):
        post_as_reader(browser, base, f"Prova {marker}-{number} {attack}")
    page = author_page
    page.goto(base + f"/admin/comments?view=pending&s={marker}")
    assert page.locator("li.response").count() == len(ATTACKS)
    for box in page.locator("input[name=ids]").all():
        box.check()
    page.select_option("#bulk-action", "approve")
    page.click("#bulk button[type=submit]")
    page.wait_for_load_state()

    context = browser.new_context(locale="it-IT")
    reader = context.new_page()
    dialogs, errors = [], []
    reader.on(
        "dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss())
    )
    reader.on("pageerror", lambda error: errors.append(str(error)))
    reader.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for url in (base + POST, base + POST + "comment-page-2/"):
        reader.goto(url)
        reader.wait_for_timeout(300)
        found = reader.evaluate(INSPECT_COMMENTS)
        assert found == {
            "xss": None,
            "scripts": 0,
            "handlers": [],
            "badLinks": [],
            "styles": 0,
        }, (url, found)
    assert dialogs == []
    assert [e for e in errors if "Content Security Policy" not in e] == []
    text = public_text(browser, base)
    assert f"Prova {marker}-0" in text and "<script>" in text  # shown as text
    context.close()


def test_one_box_ticks_every_row_of_the_queue_page(browser, live_server, author_page):
    base = live_server.url
    marker = uuid.uuid4().hex[:8]
    for number in range(3):
        post_as_reader(browser, base, f"Offerta {marker}-{number}")
    page = author_page
    page.goto(base + f"/admin/comments?view=pending&s={marker}")
    rows = page.locator("input[name=ids]")
    assert rows.count() == 3
    page.check("#select-all")
    assert all(box.is_checked() for box in rows.all())
    rows.first.uncheck()  # one row left out: the box says not all are ticked
    assert not page.is_checked("#select-all")
    page.check("#select-all")
    page.select_option("#bulk-action", "spam")
    page.click("#bulk button[type=submit]")
    page.wait_for_load_state()
    page.goto(base + f"/admin/comments?view=spam&s={marker}")
    assert page.locator("li.response").count() == 3


def test_without_javascript_the_queue_has_no_box_that_does_nothing(
    live_server, page_without_js
):
    page = page_without_js
    sign_in(page, live_server.url)
    page.goto(live_server.url + "/admin/comments?view=all")
    assert not page.is_visible("#select-all")


def test_a_long_text_is_folded_in_the_queue_on_a_phone(
    browser, live_server, author_page
):
    """A spam wave's long texts: a row shows the start, the whole text opens
    from the keyboard too."""
    base = live_server.url
    marker = uuid.uuid4().hex[:8]
    text = f"Offerta {marker} " + "compra adesso a poco prezzo " * 120
    post_as_reader(browser, base, text)
    page = author_page
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(base + f"/admin/comments?view=pending&s={marker}")
    row = page.locator("li.response").first
    folded = row.bounding_box()["height"]
    assert folded < 900, folded
    assert not row.locator(".long-text .response-text").is_visible()
    row.locator(".long-text summary").focus()
    page.keyboard.press("Enter")
    assert row.locator(".long-text .response-text").is_visible()
    assert row.bounding_box()["height"] > 2 * folded
