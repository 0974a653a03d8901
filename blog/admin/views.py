"""Signing in and out, the dashboard, and what every admin page shares."""

from __future__ import annotations

from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from ..accounts.authors import (
    DEVICE_COOKIE,
    authenticate,
    device_cookie_flags,
    from_known_browser,
)
from ..accounts.session import (
    author_required,
    current_author,
    end_all_sessions,
    sign_in,
    sign_out,
)
from ..extensions import db
from ..web.postguard import limit_posts
from ..web.refusalpages import small_refusal
from . import bp
from .forms import LoginForm
from .queue import latest_responses, status_counts
from .rows import response_rows
from .urls import safe_next


def counts() -> dict[str, int]:
    """The queue's counts, once per request (the nav badge and the tabs share it)."""
    if "admin_counts" not in g:
        g.admin_counts = status_counts()
    return g.admin_counts


# The admin's menu: (endpoint, label); the page's own is marked current.
ADMIN_SECTIONS = (
    ("admin.dashboard", "Bacheca"),
    ("admin.queue", "Commenti"),
    ("admin.posts", "Articoli"),
    ("admin.old_paths", "Vecchi indirizzi"),
    ("admin.settings", "Impostazioni"),
    ("admin.privacy", "Dati personali"),
)


@bp.context_processor
def admin_nav() -> dict[str, object]:
    """The admin menu and the pending count every admin page shows."""
    if g.get("database_unavailable"):
        # The 503 page: no menu, which would ask the database again.
        return {"pending_count": 0, "admin_sections": ()}
    signed_in = current_author() is not None
    return {
        "pending_count": counts()["pending"] if signed_in else 0,
        "admin_sections": ADMIN_SECTIONS,
    }


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep every admin page out of the browser's and proxies' caches."""
    # Admin pages show private data (emails, IPs): never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limit_posts(
    small_refusal("Troppi tentativi, riprova più tardi."),
    slot_free=from_known_browser,
)
def login() -> ResponseReturnValue:
    """The sign-in form, with the lock-out after repeated failures."""
    default = url_for("admin.dashboard")
    if current_author() is not None:
        return redirect(safe_next(request.args.get("next"), default))
    form = LoginForm(next=request.args.get("next", ""))
    status, message, retry_after = 200, "", None
    if form.validate_on_submit():
        result = authenticate(
            form.username.data,
            form.password.data,
            request.remote_addr or "",
            request.cookies.get(DEVICE_COOKIE),
        )
        if result.author is not None:
            sign_in(result.author)
        db.session.commit()
        if result.author is not None:
            response = redirect(safe_next(form.next.data, default))
            # Sent back to the sign-in form only: no other page needs it.
            response.set_cookie(
                DEVICE_COOKIE,
                result.device_cookie,
                path=url_for("admin.login"),
                **device_cookie_flags(request.is_secure),
            )
            return response
        status, message = result.status_code, result.message
        retry_after = result.retry_after
    elif form.is_submitted():
        status = 400
    form.password.data = ""
    page = render_template("admin/login.html", form=form, message=message)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return page, status, headers


@bp.post("/logout")
@author_required
def logout() -> ResponseReturnValue:
    """Sign out of this browser."""
    sign_out()
    db.session.commit()
    flash("Disconnessione effettuata.")
    return redirect(url_for("admin.login"))


@bp.post("/logout-everywhere")
@author_required
def logout_everywhere() -> ResponseReturnValue:
    """Sign out of every browser and device at once."""
    end_all_sessions(current_author())
    sign_out()
    db.session.commit()
    flash("Disconnessione effettuata su tutti i dispositivi.")
    return redirect(url_for("admin.login"))


@bp.get("/")
@author_required
def dashboard() -> str:
    """The author's dashboard: the queue's counts and the latest responses."""
    return render_template(
        "admin/dashboard.html",
        counts=counts(),
        latest=response_rows(latest_responses(), url_for),
    )
