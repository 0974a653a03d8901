"""Disqus exports for the tests, written as Disqus writes them."""
# ruff: noqa: E501  (Disqus writes these long lines; kept as it writes them)

from __future__ import annotations

SEED_POST = "chi-e-e-chi-non-e-il-community-manager"
OTHER_POST = "cinque-regole-per-un-blog-aziendale"


def thread(dsq_id: str, link: str, title: str) -> str:
    """One <thread>, as the export lists them before the posts."""
    return f"""
  <thread dsq:id="{dsq_id}">
    <id/>
    <forum>caffe</forum>
    <category dsq:id="100"/>
    <link>{link}</link>
    <title>{title}</title>
    <message/>
    <createdAt>2012-10-23T09:00:00Z</createdAt>
    <author><name>Riccardo</name><isAnonymous>false</isAnonymous><username>ric</username></author>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>"""


def post(
    dsq_id: str,
    thread_id: str,
    name: str,
    created: str,
    message: str,
    *,
    parent: str = "",
    email: str = "",
    anonymous: bool = False,
    username: str = "",
    deleted: bool = False,
    spam: bool = False,
) -> str:
    """One <post> (a comment); ``message`` goes in CDATA as Disqus writes it."""
    parent_tag = f'<parent dsq:id="{parent}"/>' if parent else ""
    email_tag = f"<email>{email}</email>" if email else ""
    return f"""
  <post dsq:id="{dsq_id}">
    <id/>
    <message><![CDATA[{message}]]></message>
    <createdAt>{created}</createdAt>
    <isDeleted>{str(deleted).lower()}</isDeleted>
    <isSpam>{str(spam).lower()}</isSpam>
    <author>{email_tag}<name>{name}</name><isAnonymous>{str(anonymous).lower()}</isAnonymous><username>{username}</username></author>
    <ipAddress>198.51.100.7</ipAddress>
    <thread dsq:id="{thread_id}"/>{parent_tag}
  </post>"""


def export(*parts: str) -> str:
    """A whole export around ``parts``."""
    body = "".join(parts)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
  <category dsq:id="100">
    <forum>caffe</forum>
    <title>General</title>
    <isDefault>true</isDefault>
  </category>{body}
</disqus>
"""


DISQUS = export(
    thread("1", f"https://vecchio.example.org/2012/10/{SEED_POST}/", "Chi è?"),
    thread("2", f"http://vecchio.example.org/{OTHER_POST}/?utm=x", "Cinque regole"),
    thread("3", "https://vecchio.example.org/pagina-sparita/", "Pagina sparita"),
    thread("4", "https://vecchio.example.org/solo-visitata/", "Solo visitata"),
    post(
        "11",
        "1",
        "Anna Neri",
        "2012-10-24T08:00:00Z",
        "<p>Bel pezzo &amp; utile.</p>",
        email="anna@example.org",
    ),
    post(
        "12",
        "1",
        "Bruno",
        "2012-10-24T09:00:00Z",
        "<p>Concordo con Anna.</p>",
        parent="11",
    ),
    post(
        "13",
        "1",
        "Anna Neri",
        "2012-10-24T10:00:00Z",
        "<p>Grazie <b>Bruno</b>!</p>",
        parent="12",
        email="anna@example.org",
    ),
    post(
        "14",
        "1",
        "Cancellato",
        "2012-10-25T08:00:00Z",
        "<p>Da togliere.</p>",
        deleted=True,
    ),
    post(
        "15",
        "1",
        "Offerte",
        "2012-10-25T09:00:00Z",
        "<p>Compra <a href='https://spam.example.com'>qui</a></p>",
        spam=True,
    ),
    post(
        "16",
        "1",
        "Carla",
        "2012-10-25T10:00:00Z",
        "<p>Rispondo al cancellato.</p>",
        parent="14",
    ),
    post("17", "3", "Dario", "2012-10-26T08:00:00Z", "<p>Nessuno mi vedrà.</p>"),
    post(
        "18",
        "2",
        "Ospite",
        "2012-10-26T09:00:00Z",
        "<p>Anonimo<script>alert(1)</script> <img src=x onerror=alert(2)></p>",
        anonymous=True,
        email="finto@example.org",
    ),
)
