"""Parse an uploaded XML export safely: one place refuses DTDs and entities."""

from __future__ import annotations

from typing import IO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException, ElementTree


def parse_export(source: str | IO[bytes], error: type[ValueError]) -> Element:
    """The root of ``source``; ``error`` for XML that is broken or unsafe.

    defusedxml refuses DTDs and entity declarations, so a hostile file cannot
    expand entities (billion laughs) or reach local files (external entities).
    """
    try:
        return ElementTree.parse(source).getroot()
    except ElementTree.ParseError as problem:
        raise error(f"Not well-formed XML: {problem}") from problem
    except DefusedXmlException as problem:
        raise error(f"Refused unsafe XML (DTD or entities): {problem}") from problem
