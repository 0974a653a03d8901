"""The WSGI entry point: ``gunicorn wsgi:app``."""

import sys

import click

from blog import create_app
from blog.configcheck import warn_of_a_local_site_url
from blog.pagecache.cache import site_release
from blog.web.templating import compile_templates

try:
    app = create_app()
except click.ClickException as error:
    # A setting the blog refuses (secret key, database URL): said in one line,
    # as the flask command says it, and gunicorn stops with status 1.
    sys.exit(f"Error: {error.format_message()}")
warn_of_a_local_site_url(app)
# Both here, before gunicorn forks its workers (preload_app): each worker starts
# with the templates compiled and the pages' release worked out from them.
compile_templates(app)
site_release(app)
