"""The WSGI entry point: ``gunicorn wsgi:app``."""

from blog import create_app
from blog.pagecache.cache import site_release
from blog.web.templating import compile_templates

app = create_app()
# Both here, before gunicorn forks its workers (preload_app): each worker starts
# with the templates compiled and the pages' release worked out from them.
compile_templates(app)
site_release(app)
