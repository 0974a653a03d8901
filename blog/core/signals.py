"""Blinker signals that let one feature react to another without importing it."""

from blinker import Namespace

_signals = Namespace()

# sender: the app; kwargs: post (a Post just published or updated while published)
post_published = _signals.signal("post-published")
# sender: the app; kwargs: post (a Post just saved, published or not), and
# earlier_address (its address before this save, if it was published).
post_saved = _signals.signal("post-saved")
# sender: the Session; kwargs: response (a Comment just stored by one INSERT,
# outside the unit of work, whose flush listeners therefore never see it).
response_inserted = _signals.signal("response-inserted")
