"""The XML-RPC endpoint under hostile input: XML bombs, garbage, oversized
bodies and wrong parameters all get a fault, never an error page."""

from __future__ import annotations

import xmlrpc.client

import pytest
from helpers_mentions import (
    fault_code,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>pingback.ping</methodName><params>
<param><value><string>&lol9;</string></value></param>
<param><value><string>x</string></value></param>
</params></methodCall>"""


def external_entity(url: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY ext SYSTEM "{url}">]>
<methodCall><methodName>pingback.extensions.getPingbacks</methodName><params>
<param><value><string>&ext;</string></value></param>
</params></methodCall>""".encode()


def raw_fault(client, body: bytes, **options) -> xmlrpc.client.Fault:
    response = client.post("/xmlrpc.php", data=body, content_type="text/xml", **options)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(response.data)
    return fault.value


def test_xml_bombs_are_faults(client, loopback_site):
    fault = raw_fault(client, BILLION_LAUGHS)
    assert fault.faultCode == 0 and "lol" not in fault.faultString
    fault = raw_fault(client, external_entity("file:///etc/passwd"))
    assert fault.faultCode == 0 and "root:" not in fault.faultString
    raw_fault(client, external_entity(loopback_site.url("/dtd")))
    assert loopback_site.requests == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage \x00\xff",
        b"<html><body>not xml-rpc</body></html>",
        b"<methodCall><methodName>pingback.ping</methodName><params>",
        b"<?xml version='1.0'?><methodCall><params></params></methodCall>",
        b"<methodCall><methodName>pingback.ping</methodName><params><param>"
        b"<value><int>notanumber</int></value></param></params></methodCall>",
        xmlrpc.client.dumps(xmlrpc.client.Fault(1, "x"), methodresponse=True).encode(),
    ],
)
def test_garbage_bodies_are_faults_not_errors(client, body):
    assert raw_fault(client, body).faultCode == 0


@pytest.mark.parametrize("extra", [10, 512 * 1024])
def test_oversized_request_body_is_a_fault(client, mention_app, extra):
    padding = "x" * (mention_app.config["XMLRPC_MAX_BYTES"] + extra)
    body = xmlrpc.client.dumps((padding, "y"), "pingback.ping").encode()
    assert len(body) > mention_app.config["XMLRPC_MAX_BYTES"]
    assert raw_fault(client, body).faultCode == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ((), 0),
        (("http://127.0.0.2/a",), 0),
        (("http://127.0.0.2/a", "http://127.0.0.1:5000/x/", "extra"), 0),
        ((1, 2), 0x10),
        (({"a": 1}, ["b"]), 0x10),
        (("http://127.0.0.2/a", 7), 0x20),
    ],
)
def test_wrong_parameters_are_faults(client, params, code):
    assert fault_code(client, "pingback.ping", *params) == code


def nested(kind: str, depth: int) -> str:
    value = "<value><string>x</string></value>"
    for _ in range(depth):
        value = (
            f"<value><array><data>{value}</data></array></value>"
            if kind == "array"
            else f"<value><struct><member><name>a</name>{value}</member></struct>"
            "</value>"
        )
    return value


@pytest.mark.parametrize(
    ("kind", "position", "code"),
    [
        ("array", "source", 0x10),
        ("array", "target", 0x20),
        ("struct", "target", 0x20),
    ],
)
def test_deeply_nested_parameters_are_faults(client, target, kind, position, code):
    # 1,200 nested arrays (52 KB) took the handler into a RecursionError: 500.
    deep = nested(kind, 1_200 if kind == "array" else 900)  # both under 64 KB
    plain = f"<value><string>{target}</string></value>"
    params = (deep, plain) if position == "source" else (plain, deep)
    body = (
        "<?xml version='1.0'?><methodCall><methodName>pingback.ping</methodName>"
        f"<params><param>{params[0]}</param><param>{params[1]}</param></params>"
        "</methodCall>"
    )
    response = client.post("/xmlrpc.php", data=body, content_type="text/xml")
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(response.data)
    assert fault.value.faultCode == code


def test_source_equal_to_target_is_refused(client, target):
    assert fault_code(client, "pingback.ping", target, target) == 0


def test_non_web_source_is_0x10(client, target):
    assert fault_code(client, "pingback.ping", "file:///etc/passwd", target) == 0x10
    assert fault_code(client, "pingback.ping", "javascript:alert(1)", target) == 0x10
