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
        if isinstance(source, str):
            with open(source, "rb") as handle:
                return _parse(_Mended(handle, head))
        return _parse(_Mended(source, head))
    except ElementTree.ParseError as problem:
        if not head.strip():
            raise error("The file is empty: export again.") from problem
        raise error(f"Not well-formed XML: {problem}") from problem
    except DefusedXmlException as problem:
        raise error(
            "Refused unsafe XML: the file declares a DTD or entities, which no "
            f"export needs ({type(problem).__name__})."
        ) from problem


def _parse(source: _Mended) -> Element:
    return ElementTree.parse(source, forbid_dtd=True).getroot()


# Control characters XML 1.0 does not allow (tab, line feed and carriage
# return it does): one pasted into a post or a comment makes the whole export
# unreadable, and the blog drops them from any text anyway.
_CONTROLS = bytes(c for c in range(32) if c not in (9, 10, 13))
_BLANK = b" \t\r\n"


class _Mended:
    """The export's bytes as the parser reads them, mended of two faults
    WordPress exports often have: blank lines before ``<?xml`` (a plugin or a
    theme printed them during the export) and control characters. In UTF-8
    and single-byte encodings no byte of another character is below 32, so
    dropping those bytes drops only those characters; a UTF-16 file (its BOM)
    is read as it is."""

    def __init__(self, handle: IO[bytes], head: bytes) -> None:
        self._handle = handle
        # UTF-16 or UTF-32 (a BOM, or a NUL among the first bytes without one).
        self._mend = not head.startswith((b"\xff\xfe", b"\xfe\xff")) and (
            b"\x00" not in head[:4]
        )
        self._start = self._mend

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if not self._mend:
            return data
        if self._start:
            bom = data.startswith(b"\xef\xbb\xbf")
            rest = data[3:] if bom else data
            stripped = rest.lstrip(_BLANK)
            while not stripped and rest:  # a chunk of blanks alone
                rest = self._handle.read(size)
                stripped = rest.lstrip(_BLANK)
            self._start = False
            data = (b"\xef\xbb\xbf" if bom else b"") + stripped
        mended = data.translate(None, _CONTROLS)
        # Nothing left of a chunk of control characters alone is not the end
        # of the file, which an empty read would tell the parser.
        while not mended and data:
            data = self._handle.read(size)
            mended = data.translate(None, _CONTROLS)
        return mended


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
