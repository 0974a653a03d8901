"""Moving from WordPress: read and write WordPress eXtended RSS (WXR) files."""

from .importer import ImportReport, import_site
from .reader import WXRError, read_wxr
from .writer import export_lines

__all__ = ["ImportReport", "WXRError", "export_lines", "import_site", "read_wxr"]
