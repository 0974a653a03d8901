"""The endpoints: XML-RPC for pingbacks, /webmention, and discovery headers."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ..core.jobs import submit
from ..core.urls import site_url
from ..extensions import csrf, db
from ..models import Post, WebmentionRequest
from ..net.client import fetcher_for
from ..posts.queries import loaded_post
from ..web.postguard import PINGS, RefusedPost, limit_posts
from ..web.security import handles_nul_itself
from . import bp
from .receive import (
    ACCESS_DENIED,
    GENERIC,
    Sender,
    approved_pingbacks,
    receive_pingback,
)
from .send import plan_pings, recheck_internal_pings, send_pending
from .webmention import (
    STATUS_TEXT,
    InvalidWebmention,
    accept_webmention,
    process_webmention,
)
from .xmlrpc import METHODS, dispatch, fault


def _sender() -> Sender:
    return Sender(
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", "")[:255],
    )


def _text(message: str, status: int = 200) -> Response:
    return Response(message + "\n", status, mimetype="text/plain")


def _xml(body: bytes) -> Response:
    return Response(body, mimetype="text/xml")


def _pings_refused(app: Flask, refused: RefusedPost) -> Response:
    # Pingback clients read the fault, not the status: HTTP 200 as for any fault.
    message = refused.message("Troppi ping: riprova più tardi.")
    return _xml(fault(ACCESS_DENIED, message))


def _mentions_refused(app: Flask, refused: RefusedPost) -> Response:
    message = refused.message("Troppe richieste: riprova più tardi.")
    return _text(message, refused.status)


@bp.get("/xmlrpc.php")
def xmlrpc_info() -> Response:
    """The pingback endpoint opened in a browser: it takes POSTs only."""
    return _text("XML-RPC server accepts POST requests only.")


@bp.post("/xmlrpc.php")
@csrf.exempt
# A pingback is checked while its sender waits, by fetching the source page
# (up to OUTBOUND_TOTAL_TIMEOUT): a write slot held meanwhile would refuse
# other POSTs, so it takes one of the pings' own.
@limit_posts(_pings_refused, slots=PINGS)
@handles_nul_itself
def xmlrpc_endpoint() -> Response:
    """The pingback XML-RPC endpoint: receive a ping, list a post's pingbacks."""
    limit = int(current_app.config["XMLRPC_MAX_BYTES"])
    if (request.content_length or 0) > limit:
        return _xml(fault(GENERIC, "Richiesta troppo grande."))
    try:
        # Read one byte past the limit, never the whole of an oversized body.
        body = request.stream.read(limit + 1)
    except RequestEntityTooLarge:
        return _xml(fault(GENERIC, "Richiesta troppo grande."))
    sender = _sender()

    def ping(source, target):
        fetch = fetcher_for(current_app.config, requester_ip=sender.ip).get
        receive_pingback(source, target, sender, fetch)
        return f"Pingback da {source} a {target} registrato. Grazie!"

    handlers = {
        "pingback.ping": ping,
        "pingback.extensions.getPingbacks": approved_pingbacks,
        "system.listMethods": lambda: list(METHODS),
    }
    return _xml(dispatch(body, handlers, limit))


@bp.get("/webmention")
def webmention_info() -> Response:
    """The Webmention endpoint opened in a browser: how to send one."""
    return _text("Endpoint Webmention: invia source e target con una POST.")


@bp.post("/webmention")
@csrf.exempt
@limit_posts(_mentions_refused)
def webmention_endpoint() -> Response:
    """Receive a webmention: accepted at once, verified in the background."""
    source = request.form.get("source", "")
    target = request.form.get("target", "")
    try:
        mention = accept_webmention(source, target, _sender())
    except InvalidWebmention as error:
        response = _text(error.message, error.status)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    submit(process_webmention, mention.id)
    status_url = site_url("mentions.webmention_status", request_id=mention.id)
    # A status page made for the request: 201 with its address (W3C
    # Webmention 3.2; 202 is for a receiver that offers none).
    response = _text(f"Webmention accettata, verifica in corso: {status_url}", 201)
    response.headers["Location"] = status_url
    return response


@bp.get("/webmention/<request_id>")
def webmention_status(request_id: str) -> Response:
    """A received webmention's status (JSON), at the address its sender got."""
    mention = db.get_or_404(WebmentionRequest, request_id)
    return jsonify(
        status=mention.status,
        message=STATUS_TEXT.get(mention.status, ""),
        detail=mention.result,
        source=mention.source,
        target=mention.target,
    )


@bp.after_app_request
def advertise_endpoints(response: Response) -> Response:
    """Post pages that take pings say where to send pingbacks and webmentions."""
    if (
        request.endpoint == "posts.detail"
        and response.status_code == 200
        and _takes_pings((request.view_args or {}).get("slug", ""))
    ):
        response.headers["X-Pingback"] = site_url("mentions.xmlrpc_endpoint")
        webmention = site_url("mentions.webmention_endpoint")
        response.headers.add("Link", f'<{webmention}>; rel="webmention"')
    return response


def _takes_pings(slug: str) -> bool:
    # The view has loaded the post as a rule (the page made, the reply form's
    # target checked): no second query then. Only Flask's answers come here;
    # the page cache replays their headers.
    post = loaded_post(slug)
    if post is not None:
        return post.pings_open
    status = db.session.scalar(select(Post.ping_status).where(Post.slug == slug))
    return status == "open"


@bp.app_context_processor
def endpoint_urls() -> dict[str, str]:
    """The pingback and webmention addresses a post page's head links to."""
    return {
        "pingback_url": site_url("mentions.xmlrpc_endpoint"),
        "webmention_url": site_url("mentions.webmention_endpoint"),
    }


def on_post_published(sender: Flask, post: Post, **extra: object) -> None:
    """Plan pings for the post's links now; send them outside the request."""
    plan_pings(post)
    db.session.commit()
    submit(send_pending, post.id)


def on_post_saved(
    sender: Flask, post: Post, earlier_address: str | None = None, **extra: object
) -> None:
    """Check again the pingbacks the post left on our other posts."""
    recheck_internal_pings(post, earlier_address)
