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
    try:
        return ElementTree.parse(source, forbid_dtd=True).getroot()
    except ElementTree.ParseError as problem:
        raise error(f"Not well-formed XML: {problem}") from problem
    except DefusedXmlException as problem:
        raise error(f"Refused unsafe XML (DTD or entities): {problem}") from problem
