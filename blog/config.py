"""Default settings.

Order of precedence, lowest first: these defaults, ``instance/config.py``,
``BLOG_*`` environment variables, then the mapping given to ``create_app``.
"""

# Lower case: an upper-case name here would be a setting (BLOG_DEFAULT_TIMEZONE
# taken, and read by nobody).
from .core.localtime import DEFAULT_TIMEZONE as default_timezone
from .core.settings import config_defaults as moderation_defaults
from .net.client import config_defaults as outbound_defaults

SECRET_KEY = "dev-insecure-change-me"
# Read when SECRET_KEY is unset or the default above; None means
# instance/secret_key (`make run` creates it). Outside debug and testing the app
# refuses to start without a real key.
SECRET_KEY_FILE = None
SITE_NAME = "nOwmedia"
SITE_TAGLINE = "Social Media e Digital Marketing"
SITE_URL = "http://127.0.0.1:5000"
# The zone pages show times in and the post editor reads them in (an IANA name).
TIMEZONE = default_timezone
# BLOG_DATABASE_URL wins; when unset, SQLite under the instance folder.
DATABASE_URL = None
# Passed to SQLAlchemy's create_engine; on PostgreSQL pool_pre_ping, a pool of
# 5 + 2, a 10 s wait for a connection and a 5 s lock_timeout unless set here
# (see blog/database/).
SQLALCHEMY_ENGINE_OPTIONS: dict = {}

POSTS_PER_PAGE = 10
# Entries in each RSS/Atom feed.
FEED_ITEMS = 20

# Comment moderation defaults (COMMENT_HOLD_ALL, COMMENT_MAX_LINKS, ...,
# AVATARS), declared once with their admin labels in SETTINGS of
# blog/core/settings.py; the author overrides them in the admin.
globals().update(moderation_defaults())

MAX_CONTENT_LENGTH = 256 * 1024

# Behind a reverse proxy, the number of proxies whose X-Forwarded-For/-Proto/-Host
# headers to trust (BLOG_PROXY_FIX=1 behind one nginx); 0 trusts none.
PROXY_FIX = 0

# Werkzeug's method string; the tests choose a fast one, production keeps scrypt.
PASSWORD_HASH_METHOD = "scrypt"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None

# Outbound requests (pingback/webmention verification, discovery, sending).
# BLOG_OUTBOUND_ALLOW: comma-separated host names, addresses or CIDR networks
# opened despite the address policy (empty: only public addresses).
OUTBOUND_ALLOW = ""
# OUTBOUND_CONNECT_TIMEOUT, OUTBOUND_TOTAL_TIMEOUT, OUTBOUND_MAX_BYTES,
# OUTBOUND_MAX_REDIRECTS and OUTBOUND_PORTS (comma-separated): the defaults of
# blog/net/client.py's Limits.
globals().update(outbound_defaults())
# None: only the allowlist under TESTING, the address policy otherwise.
OUTBOUND_ONLY_ALLOWED = None

# Received pings: per source address and per target, within the window.
PING_LIMIT_PER_IP = 10
PING_LIMIT_PER_TARGET = 30
PING_LIMIT_WINDOW = 3600
# Flask-Limiter's storage (BLOG_RATELIMIT_STORAGE_URI): local:// counts per
# worker process (blog/web/localstore.py); redis://... or memcached://... when
# several share the load.
RATELIMIT_STORAGE_URI = "local://"
# The POSTs open to anybody (the comment form, a reader's own edit and
# deletion, the mail links' forms, /xmlrpc.php, /webmention, /admin/login), per
# address and endpoint, in the notation of the limits package.
POST_LIMIT_PER_ADDRESS = "60 per minute"
# Confirmation mails one sender (an IP address, an IPv6 /64) may have the blog
# write in a day, to addresses it types: each mailbox is asked 3 times at most.
CONFIRMATIONS_PER_SENDER = 10
# How many of those POSTs may run at once in all the worker processes of one
# server (blog/web/writers.py); the others get 503 at once, so readers always
# find a free worker. None: one per CPU but one (at least one), so with two
# CPUs or more one is always left to readers; 0: no bound. WRITE_SLOTS_DIR: where
# the lock files are (a new temporary directory when unset).
WRITE_SLOTS = None
WRITE_SLOTS_DIR = None
# A threaded worker (gunicorn's gthread, waitress) answers a refused public
# POST (429, 503) after this many seconds, in at most REFUSAL_HOLDS threads of
# each process at once: a client that resends as soon as it is answered then
# sends once a second, and the pause costs no CPU. 0: answer at once. Sync
# workers never pause (blog/web/heldrefusals.py). None: three in four
# of a gunicorn worker's threads (gunicorn.conf.py tells the app), else 2.
REFUSAL_HOLD_SECONDS = 1.0
REFUSAL_HOLDS = None
XMLRPC_MAX_BYTES = 64 * 1024
# "thread": verify mentions and send mail in a background thread of each worker
# process; "off": leave the jobs queued for `flask process-mentions` and
# `flask send-mail`. None: "thread", or "off" under TESTING. MENTIONS_WORKER is
# its older name, still read when BACKGROUND_WORKER is unset.
BACKGROUND_WORKER = None
MENTIONS_WORKER = None

# Rendered pages kept per worker process (blog/pagecache): post pages, the home
# page and the site's feeds; apart, the pages a client can ask for by the
# hundred (later comment pages and home pages, the no-JavaScript reply form of
# each comment, each post's feed). Apart again, the 404 pages of addresses
# asked for again and again (bots probing for /wp-admin/, /wp-login.php...).
PAGE_CACHE_SIZE = 256
SIDE_PAGE_CACHE_SIZE = 128
MISSING_PAGE_CACHE_SIZE = 128
# And at most this many megabytes each: a post with a thread of thousands of
# replies makes pages of megabytes, one per reply form.
PAGE_CACHE_MB = 64
SIDE_PAGE_CACHE_MB = 16
MISSING_PAGE_CACHE_MB = 4

# Mail (blog/mail): the author's notices of held responses, readers' confirmation
# requests and notifications, all sent from the outbox table by the background
# worker or `flask send-mail`. Without MAIL_SERVER, or with no recipient, each
# message's subject and number of recipients go to the log (at WARNING, so
# gunicorn's error log shows it; the whole message only in debug mode): a
# fresh install needs no mail server.
MAIL_SERVER = ""
MAIL_PORT = 25
MAIL_USERNAME = ""
MAIL_PASSWORD = ""
MAIL_USE_TLS = False
MAIL_FROM = "blog@localhost"
# Where notifications go; the post author's email when empty.
MAIL_AUTHOR = ""
# Seconds the background worker waits after a commit puts mail in before it
# sends: held responses arriving in that time go out as one digest.
MAIL_GATHER_SECONDS = 2.0
