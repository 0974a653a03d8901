"""XML-RPC for pingbacks: the standard library's (un)marshalling, defusedxml's parser.

``xmlrpc.client.loads`` would use a plain expat parser; here the same
``Unmarshaller`` is fed by defusedxml's parser with DTDs, entities and external
references forbidden, so a billion-laughs or external-entity body is a fault.
"""

from __future__ import annotations

import inspect
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from .receive import GENERIC, PingRejected

# Offered methods; nothing takes credentials and there is no system.multicall.
# The XML-RPC community's code for a method the server does not have.
METHOD_NOT_FOUND = -32601
METHODS = ("pingback.ping", "pingback.extensions.getPingbacks", "system.listMethods")


class BadRequest(Exception):
    """A body that is not a well-formed, safe XML-RPC method call."""


def _unmarshal(body: bytes) -> tuple[xmlrpc.client.Unmarshaller, tuple[Any, ...]]:
    unmarshaller = xmlrpc.client.Unmarshaller(use_builtin_types=True)
    parser = DefusedExpatParser(
        unmarshaller, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        parser.close()
        params = unmarshaller.close()
    except xmlrpc.client.Fault:
        raise
    except DefusedXmlException as error:
        raise BadRequest(f"XML non consentito: {type(error).__name__}") from None
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError) as error:
        raise BadRequest(f"XML-RPC non valido: {error}") from None
    except Exception:  # the unmarshaller raises bare errors on odd input
        raise BadRequest("XML-RPC non valido.") from None
    return unmarshaller, tuple(params)


def parse_call(body: bytes) -> tuple[str, tuple[Any, ...]]:
    """(method name, parameters) of an XML-RPC call, parsed without DTD or entities."""
    try:
        unmarshaller, params = _unmarshal(body)
    except xmlrpc.client.Fault:
        raise BadRequest("Non è una chiamata XML-RPC.") from None
    method = unmarshaller.getmethodname()
    if not method:
        raise BadRequest("Manca il nome del metodo.")
    return method, params


def parse_response(body: bytes) -> Any:
    """The value an XML-RPC response carries; raises ``Fault`` or ``BadRequest``."""
    unmarshaller, params = _unmarshal(body)
    if unmarshaller.getmethodname() or len(params) != 1:
        raise BadRequest("Non è una risposta XML-RPC.")
    return params[0]


def fault(code: int, message: str) -> bytes:
    """An XML-RPC fault response body."""
    return xmlrpc.client.dumps(
        xmlrpc.client.Fault(code, message), methodresponse=True, encoding="utf-8"
    ).encode("utf-8")


def success(value: Any) -> bytes:
    """An XML-RPC response body carrying ``value``."""
    return xmlrpc.client.dumps(
        (value,), methodresponse=True, allow_none=False, encoding="utf-8"
    ).encode("utf-8")


def dispatch(
    body: bytes, handlers: dict[str, Callable[..., Any]], max_bytes: int
) -> bytes:
    """Answer one XML-RPC request body: a response or a fault, never an exception."""
    if len(body) > max_bytes:
        return fault(GENERIC, "Richiesta troppo grande.")
    try:
        method, params = parse_call(body)
    except BadRequest as error:
        return fault(GENERIC, str(error))
    handler = handlers.get(method)
    if handler is None:
        return fault(METHOD_NOT_FOUND, f"Metodo non disponibile: {method[:100]}")
    try:
        inspect.signature(handler).bind(*params)
    except TypeError:
        return fault(GENERIC, f"Parametri non validi per {method}.")
    try:
        return success(handler(*params))
    except PingRejected as error:
        return fault(error.code, error.message)
