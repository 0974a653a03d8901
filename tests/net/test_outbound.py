"""The guarded fetcher: address policy, pinning, redirects, limits, user agent.

Refusals of private, link-local, multicast and reserved ranges are tested on
the policy function and through a stubbed resolver: no test connects anywhere
but loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import threading
from http.server import ThreadingHTTPServer

import pytest
from helpers_mentions import (
    Reply,
    local_site,
)
from helpers_tls import self_signed

from blog import config
from blog.net import client as outbound
from blog.net.addresses import Allowlist
from blog.net.client import (
    Fetcher,
    FetchError,
    Limits,
    config_defaults,
    fetcher_for,
    limits_from_config,
)


def fetcher(**options) -> Fetcher:
    options.setdefault("allow", Allowlist.parse("127.0.0.2"))
    options.setdefault("limits", Limits(connect_timeout=2, total_timeout=3))
    return Fetcher("test-agent/1", **options)


def test_fetches_an_allowed_local_page(site):
    url = site.page("/a?x=1", "<p>ciao</p>")
    response = fetcher().get(url)
    assert response.status == 200
    assert response.body == b"<p>ciao</p>"
    assert response.is_html and response.charset == "utf-8"
    request = site.requests[0]
    assert request.path == "/a?x=1"
    assert request.headers["User-Agent"] == "test-agent/1"
    assert request.headers["Host"] == f"127.0.0.2:{site.port}"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "127.1"]
)
def test_loopback_forms_are_refused_end_to_end(loopback_site, host):
    with pytest.raises(FetchError) as error:
        fetcher().get(f"http://{host}:{loopback_site.port}/")
    assert error.value.kind == "forbidden"
    # The address rule, not the port rule; the address a name resolves to is
    # not told (the sender would learn what our resolver knows).
    assert str(error.value) == f"{host}: indirizzo non raggiungibile"
    assert loopback_site.requests == []


def test_ipv6_loopback_is_refused():
    with pytest.raises(FetchError) as error:
        fetcher().get("http://[::1]:8080/")
    assert error.value.kind == "forbidden"
    assert str(error.value) == "::1: indirizzo non raggiungibile"


def test_redirect_to_a_forbidden_address_is_refused(site, loopback_site):
    url = site.redirect("/go", loopback_site.url("/"))
    with pytest.raises(FetchError) as error:
        fetcher().get(url)
    assert error.value.kind == "forbidden"
    assert str(error.value) == "127.0.0.1: indirizzo non raggiungibile"
    assert site.paths() == ["/go"]
    assert loopback_site.requests == []


def test_redirects_are_followed_up_to_the_limit(site):
    site.redirect("/1", "/2", 301)
    site.redirect("/2", site.url("/3"), 307)
    site.page("/3", "arrivato")
    response = fetcher().get(site.url("/1"))
    assert (response.url, response.body) == (site.url("/3"), b"arrivato")
    for n in range(6):
        site.redirect(f"/loop{n}", f"/loop{n + 1}")
    with pytest.raises(FetchError) as error:
        fetcher(limits=Limits(max_redirects=3)).get(site.url("/loop0"))
    assert error.value.kind == "redirects"
    assert site.paths()[-4:] == ["/loop0", "/loop1", "/loop2", "/loop3"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.2/",
        "file:///etc/passwd",
        "gopher://127.0.0.2:70/",
        "http://user:secret@127.0.0.2/",
        "http:///nohost",
        "http://127.0.0.2:99999/",
    ],
)
def test_only_plain_http_urls(url):
    with pytest.raises(FetchError) as error:
        fetcher().get(url)
    assert error.value.kind == "url"


def test_stops_reading_past_the_byte_limit(site):
    produced = []

    def endless():
        while not site.release.is_set() and len(produced) < 100_000:
            produced.append(1)
            yield b"x" * 1024

    site.routes["/big"] = Reply(body=endless())
    response = fetcher(limits=Limits(max_bytes=50_000)).get(site.url("/big"))
    assert response.truncated
    assert len(response.body) == 50_000
    assert len(produced) < 100_000  # the server was not read to its end


def test_total_time_limit(site):
    def stall(request):
        site.release.wait(30)
        return Reply(body="tardi")

    site.routes["/slow"] = stall
    limits = Limits(connect_timeout=0.5, total_timeout=0.5)
    with pytest.raises(FetchError) as error:
        fetcher(limits=limits).get(site.url("/slow"))
    assert error.value.kind == "timeout"


def test_trickling_body_hits_the_total_limit(site):
    def trickle():
        while not site.release.wait(0.05):
            yield b"."

    site.routes["/drip"] = Reply(body=trickle())
    limits = Limits(connect_timeout=0.5, total_timeout=0.5)
    with pytest.raises(FetchError) as error:
        fetcher(limits=limits).get(site.url("/drip"))
    assert error.value.kind == "timeout"


def stub_resolver(table: dict[str, list[list[str]]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        answers = table[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["::ffff:127.0.0.1"],
        ["127.0.0.2", "192.168.0.10"],  # one bad address spoils the lot
    ],
)
def test_names_resolving_to_forbidden_addresses_are_refused(answer):
    resolve = stub_resolver({"evil.example": [answer]})
    with pytest.raises(FetchError) as error:
        fetcher(resolver=resolve).get("http://evil.example:8080/")
    assert error.value.kind == "forbidden"


def test_connects_to_the_address_resolved_once(site, loopback_site):
    # A rebinding name: 127.0.0.2 when checked, 127.0.0.1 if asked again.
    resolve = stub_resolver({"rebind.example": [["127.0.0.2"], ["127.0.0.1"]]})
    site.page("/", "pinned")
    url = f"http://rebind.example:{site.port}/"
    response = fetcher(resolver=resolve).get(url)
    assert response.body == b"pinned"
    assert resolve.calls == ["rebind.example"]
    assert site.requests[0].headers["Host"] == f"rebind.example:{site.port}"
    assert loopback_site.requests == []


def test_redirect_to_a_name_resolving_to_loopback(site, loopback_site):
    resolve = stub_resolver(
        {"ok.example": [["127.0.0.2"]], "evil.example": [["127.0.0.1"]]}
    )
    site.routes["/"] = Reply(
        302, "", [("Location", f"http://evil.example:{loopback_site.port}/")]
    )
    with pytest.raises(FetchError) as error:
        fetcher(resolver=resolve).get(f"http://ok.example:{site.port}/")
    assert error.value.kind == "forbidden"
    assert loopback_site.requests == []


def test_ports_beyond_web_ports_need_the_allowlist():
    resolve = stub_resolver({"public.example": [["93.184.216.34"]]})
    with pytest.raises(FetchError) as error:
        fetcher(resolver=resolve).get("http://public.example:22/")
    assert error.value.kind == "forbidden"
    assert "porta" in str(error.value)


def test_proxy_environment_is_ignored(site, monkeypatch):
    with local_site("127.0.0.2") as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url("/"))
        site.page("/", "diretto")
        assert fetcher().get(site.url("/")).body == b"diretto"
        assert proxy.requests == []


def test_test_mode_never_resolves_names_outside_the_allowlist(monkeypatch):
    asked = []
    real = socket.getaddrinfo

    def spy(host, *args, **kwargs):
        asked.append((host, kwargs.get("flags", 0)))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with pytest.raises(FetchError) as error:
        fetcher(only_allowed=True).get("http://example.com/")
    assert error.value.kind == "forbidden"
    assert all(flags & socket.AI_NUMERICHOST for _, flags in asked)


def test_user_agent_names_blog_version_site_and_requester():
    config = {"SITE_NAME": "nOwmedia", "SITE_URL": "https://blog.example"}
    plain = fetcher_for(config).user_agent
    assert plain == "nOwmedia/0.1.0 (+https://blog.example)"
    verifying = fetcher_for(config, requester_ip="198.51.100.4").user_agent
    assert verifying.startswith("nOwmedia/0.1.0 (+https://blog.example")
    assert "for 198.51.100.4" in verifying


def test_configured_from_the_app(app):
    app.config.update(OUTBOUND_ALLOW="127.0.0.2, blog.test", OUTBOUND_MAX_BYTES=10)
    made = fetcher_for(app.config)
    assert made.allow.allows_address("127.0.0.2")
    assert made.allow.allows_host("blog.test")
    assert made.limits.max_bytes == 10
    assert made.only_allowed  # TESTING: nothing beyond the allowlist


def test_the_config_defaults_are_the_limits_defaults():
    assert config_defaults() == {
        "OUTBOUND_CONNECT_TIMEOUT": 3.0,
        "OUTBOUND_TOTAL_TIMEOUT": 8.0,
        "OUTBOUND_MAX_BYTES": 1_000_000,
        "OUTBOUND_MAX_REDIRECTS": 3,
        "OUTBOUND_PORTS": "80,443,8080",
    }
    for key, value in config_defaults().items():
        assert getattr(config, key) == value
    assert limits_from_config(vars(config)) == Limits()
    assert limits_from_config({}) == Limits()


@pytest.mark.parametrize(
    ("ports", "expected"),
    [("80, 8443", {80, 8443}), (8080, {8080}), ([80, 443], {80, 443})],
)
def test_ports_from_a_config_file_or_the_environment(ports, expected):
    limits = limits_from_config({"OUTBOUND_PORTS": ports, "OUTBOUND_MAX_BYTES": "5"})
    assert limits.ports == frozenset(expected)
    assert limits.max_bytes == 5
    assert limits.connect_timeout == Limits().connect_timeout


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available")
    return self_signed(tmp_path_factory.mktemp("tls"), "pinned.test")


def test_https_checks_the_certificate_for_the_host_name(certificate):
    key, cert = certificate
    with local_site("127.0.0.2") as site:
        site.page("/", "tls ok")
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        tls = ThreadingHTTPServer(("127.0.0.2", 0), site.server.RequestHandlerClass)
        tls.socket = server_context.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        try:
            port = tls.server_address[1]
            client_context = ssl.create_default_context(cafile=str(cert))
            resolve = stub_resolver(
                {"pinned.test": [["127.0.0.2"]], "other.test": [["127.0.0.2"]]}
            )
            secure = fetcher(resolver=resolve, ssl_context=client_context)
            assert secure.get(f"https://pinned.test:{port}/").body == b"tls ok"
            assert site.requests[-1].headers["Host"] == f"pinned.test:{port}"
            with pytest.raises(FetchError) as error:
                secure.get(f"https://other.test:{port}/")
            assert error.value.kind == "network"
            assert "certificate" in str(error.value).lower()
        finally:
            tls.shutdown()
            tls.server_close()


def test_a_name_lookup_that_hangs_ends_at_the_connect_timeout(site):
    released = threading.Event()

    def hanging_resolver(host: str, port: int) -> list[str]:
        released.wait(10)  # a DNS server that never answers
        return ["127.0.0.2"]

    limits = Limits(connect_timeout=0.2, total_timeout=3)
    try:
        with pytest.raises(FetchError) as refused:
            fetcher(resolver=hanging_resolver, limits=limits).get(
                f"http://slow-dns.example:{site.port}/"
            )
    finally:
        released.set()
    assert refused.value.kind == "timeout"
    assert "risoluzione del nome" in str(refused.value)


def test_a_slow_lookup_ends_at_the_fetchs_deadline(site):
    def slow_resolver(host: str, port: int) -> list[str]:
        threading.Event().wait(1.0)  # slower than the whole fetch may take
        return ["127.0.0.2"]

    limits = Limits(connect_timeout=5, total_timeout=0.3)
    with pytest.raises(FetchError) as refused:
        fetcher(resolver=slow_resolver, limits=limits).get(
            f"http://slow-dns.example:{site.port}/"
        )
    assert "risoluzione del nome troppo lenta" in str(refused.value)


def test_hung_lookups_are_capped_and_their_slots_come_back(monkeypatch):
    monkeypatch.setattr(
        outbound, "_lookup_slots", (os.getpid(), threading.BoundedSemaphore(1))
    )
    released = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        released.wait(10)
        return ["127.0.0.2"]

    with pytest.raises(FetchError, match="troppo lenta"):
        outbound.resolve_within(hanging, "hung.example", 80, 0.1)
    with pytest.raises(FetchError, match="troppe risoluzioni"):
        outbound.resolve_within(lambda h, p: ["127.0.0.3"], "next.example", 80, 1)
    released.set()
    answer = None
    for _ in range(100):  # the hung lookup ends and gives its slot back
        try:
            answer = outbound.resolve_within(
                lambda h, p: ["127.0.0.3"], "next.example", 80, 1
            )
            break
        except FetchError:
            threading.Event().wait(0.05)
    assert answer == ["127.0.0.3"]


def test_a_resolvers_own_error_reaches_the_caller():
    def broken(host: str, port: int) -> list[str]:
        raise OSError("nessun server DNS")

    with pytest.raises(OSError, match="nessun server DNS"):
        outbound.resolve_within(broken, "broken.example", 80, 1)


def test_fetchers_share_one_tls_context_per_process():
    # Building one loads the system's CA certificates (tens of milliseconds).
    assert fetcher().ssl_context is fetcher().ssl_context
