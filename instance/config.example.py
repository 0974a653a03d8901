# Copy to instance/config.py and adjust. Environment variables with the BLOG_
# prefix (BLOG_SECRET_KEY, BLOG_DATABASE_URL, BLOG_SITE_URL, ...) override it.
# Never commit the real file: instance/ is git-ignored.

# Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'
SECRET_KEY = "replace-me"
SITE_URL = "https://blog.example.org"
# DATABASE_URL = "postgresql://blog:password@127.0.0.1/blog"
