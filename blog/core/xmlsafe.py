"""Parse an uploaded XML export safely: one place refuses DTDs and entities."""

from __future__ import annotations

from typing import IO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException, ElementTree


def parse_export(source: str | IO[bytes], error: type[ValueError]) -> Element:
    """The root of ``source``; ``error`` for XML that is broken or unsafe.

    Any DTD is refused, not only entity declarations: no export needs one, and
    a hostile file can then neither expand entities (billion laughs) nor name
    an external DTD or file for a later parser to fetch.
    """
    head = _first_bytes(source)
    packed = _packed_as(head)
    if packed:
        raise error(f"{packed}; unpack it and import the XML file inside.")
    try:
        return ElementTree.parse(source, forbid_dtd=True).getroot()
    except ElementTree.ParseError as problem:
        if not head.strip():
            raise error("The file is empty: export again.") from problem
        raise error(f"Not well-formed XML: {problem}") from problem
    except DefusedXmlException as problem:
        raise error(
            "Refused unsafe XML: the file declares a DTD or entities, which no "
            f"export needs ({type(problem).__name__})."
        ) from problem


# WordPress.com gives its export as a zip; a backup may be gzipped.
_PACKED = {
    b"PK\x03\x04": "The file is a zip archive (as WordPress.com exports)",
    b"\x1f\x8b": "The file is gzip-compressed",
}


def _packed_as(head: bytes) -> str:
    return next((said for magic, said in _PACKED.items() if head.startswith(magic)), "")


def _first_bytes(source: str | IO[bytes], size: int = 64) -> bytes:
    if isinstance(source, str):
        with open(source, "rb") as handle:
            return handle.read(size)
    if not source.seekable():
        return b"<"  # cannot look ahead: the parser will say what is wrong
    start = source.tell()
    head = source.read(size)
    source.seek(start)
    return head
