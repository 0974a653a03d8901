"""The one place where user and author markup becomes safe HTML.

Markup is cleaned through ``clean_comment``, ``clean_post`` and
``clean_written_post`` only, so the engine behind them (bleach today, nh3
tomorrow) can change without touching their callers, which otherwise read the
whitelists, limits and notes beside them. Each name is imported from the
module that defines it:

- ``whitelist``: ``COMMENT_TAGS`` (THE comment whitelist: bleach enforces it and
  the note under the comment form is generated from it), ``POST_TAGS``, the
  link schemes and the note, which both cleaners and both forms use;
- ``comment``: the reader's text (``clean_comment``, ``is_safe_url``, the
  size limit), bounded in linear time before bleach sees it;
- ``post``: the author's HTML (``clean_post``), its alignments, the ids the
  page keeps for itself (``PAGE_IDS``) and its bounded nesting;
- ``autop``: a post as its author wrote it (``clean_written_post``):
  paragraphs from blank lines (``autop``) and the ``<!--more-->`` mark kept
  where it stands.
"""
