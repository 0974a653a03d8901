"""The WSGI entry point: ``gunicorn wsgi:app``."""

from blog import create_app
from blog.web.templating import compile_templates

app = create_app()
compile_templates(app)
