"""Moving from Disqus: its XML export's comments join the posts they belong to."""

from .importer import DisqusReport, import_disqus
from .reader import DisqusError, read_disqus

__all__ = ["DisqusError", "DisqusReport", "import_disqus", "read_disqus"]
