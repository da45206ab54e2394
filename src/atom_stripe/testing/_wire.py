"""What the fake reads off the wire: form and multipart bodies back into typed parameters,
checked against the same typed params the client uses, and Stripe-shaped errors."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union
from urllib.parse import parse_qsl

from typing_extensions import is_typeddict

from .._errors import StripeValueError
from ..types import check_params
from ..types import fields_of as _fields

_NoneType = type(None)
_KEY = re.compile(r"[^\[\]]+|(?<=\[)(?=\])")


class FakeError(Exception):
    """An error answer, Stripe-shaped: ``{"error": {"type", "code", "message", "param", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code is not None:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param is not None:
            self.body["param"] = param
        self.body.update(extra)


def missing(object_name: str, object_id: str, param: str = "id", status: int = 404) -> FakeError:
    """Stripe's answer to an id it does not hold: 404 for an id in the path, 400 naming the
    parameter for one in the request's parameters."""
    return FakeError(status, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)


def invalid(param: str, message: str, code: str | None = None) -> FakeError:
    return FakeError(400, message, code=code, param=param)


def required(params: Mapping[str, Any], name: str) -> Any:
    """A parameter Stripe needs for this call though its typed params leave it optional."""
    if params.get(name) is None:
        raise invalid(name, f"Missing required param: {name}.", "parameter_missing")
    return params[name]


# -- decoding ----------------------------------------------------------------------------------


def unflatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs back into nested dicts (list indices stay keys; ``a[]`` gets the next one)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = _KEY.findall(key) or [key]
        cursor = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "" and isinstance(cursor, dict):
                part = str(len(cursor))
            if last:
                cursor[part] = value
            else:
                nxt = cursor.get(part)
                if not isinstance(nxt, dict):
                    nxt = cursor[part] = {}
                cursor = nxt
    return out


def read_form(text: str) -> dict[str, Any]:
    return unflatten(parse_qsl(text, keep_blank_values=True))


def read_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body's fields (file parts as bytes)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise invalid("file", "Malformed multipart body: no boundary")
    pairs: list[tuple[str, Any]] = []
    for part in body.split(b"--" + match.group(1).encode()):
        head, sep, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if not sep or name is None:
            continue
        value = data.removesuffix(b"\r\n")
        is_file = b"filename=" in head
        pairs.append((name.group(1).decode(), value if is_file else value.decode()))
    return unflatten(pairs)


class _Mismatch(Exception):
    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        self.param = param
        self.message = message
        self.code = code


def _join(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def typed_params(schema: type | None, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decoded wire values read along ``schema`` (ints, bools, lists...), then checked with
    :func:`atom_stripe.types.check_params`; a mismatch is Stripe's 400 naming the parameter."""
    if schema is None:
        for key in raw:
            raise invalid(key, f"Received unknown parameter: {key}", "parameter_unknown")
        return {}
    try:
        typed = _dict(schema, raw, "")
    except _Mismatch as mismatch:
        raise invalid(mismatch.param, mismatch.message, mismatch.code) from None
    try:
        check_params(schema, typed)
    except StripeValueError as exc:
        message = str(exc).partition(": ")[2]
        code = "parameter_unknown" if "is not a parameter" in message else None
        code = "parameter_missing" if message == "is required" else code
        raise invalid(exc.param, f"Invalid {exc.param}: {message}", code) from None
    return typed


def _dict(schema: type, value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _Mismatch(name, f"Invalid object: {name} must be a hash of parameters", "parameter_invalid_empty")
    hints, required = _fields(schema)
    out: dict[str, Any] = {}
    for key, item in value.items():
        tp = hints.get(key)
        if tp is None:
            raise _Mismatch(_join(name, key), f"Received unknown parameter: {_join(name, key)}", "parameter_unknown")
        decoded = _value(tp, item, _join(name, key))
        if decoded is not _SKIP:
            out[key] = decoded
    for key in required:
        if key not in out:
            raise _Mismatch(_join(name, key), f"Missing required param: {_join(name, key)}.", "parameter_missing")
    return out


_SKIP: Any = object()


def _value(tp: Any, value: Any, name: str) -> Any:
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value == "" and any(typing.get_origin(a) is Literal and "" in typing.get_args(a) for a in args):
            return ""
        enums = [a for a in args if typing.get_origin(a) is Literal and a != Literal[""]]
        if enums and str in args and isinstance(value, str):
            # ``Literal[...] | str`` leaves room for values newer than the client: Stripe checks
            # them. The union's other members stay (``off_session``: a boolean or an enum).
            args = tuple(a for a in args if a is not str)
        mismatches: list[_Mismatch] = []
        for arg in args:
            if arg is _NoneType:
                continue
            try:
                return _value(arg, value, name)
            except _Mismatch as mismatch:
                mismatches.append(mismatch)
        raise max(mismatches, key=lambda m: (len(m.param), m.code is not None))
    if is_typeddict(tp):
        if value == "":
            return {}
        return _dict(tp, value, name)
    if origin is list:
        if value == "":
            return []
        if not isinstance(value, Mapping) or not all(k.isdigit() for k in value):
            raise _Mismatch(name, f"Invalid array: {name} must be a list", "parameter_invalid_empty")
        return [_value(args[0], value[k], f"{name}[{k}]") for k in sorted(value, key=int)]
    if origin is dict:
        if value == "":
            return {}
        if not isinstance(value, Mapping):
            raise _Mismatch(name, f"Invalid hash: {name} must be a hash", "parameter_invalid_empty")
        return {k: _value(args[1], v, _join(name, k)) for k, v in value.items()}
    if isinstance(value, Mapping):
        raise _Mismatch(name, f"Invalid {name}: a value was expected, not a hash")
    if isinstance(value, bytes):
        return value
    if origin is Literal:
        for arg in args:
            if str(arg).lower() == value.lower() and (not isinstance(arg, bool) or value in ("true", "false")):
                return arg
        choices = ", ".join(str(a) for a in args)
        raise _Mismatch(name, f"Invalid {name}: must be one of {choices}")
    if tp is str:
        return value
    if tp is bool:
        if value not in ("true", "false"):
            raise _Mismatch(name, f"Invalid boolean: {value}")
        return value == "true"
    if tp is int:
        if not re.fullmatch(r"-?\d+", value):
            raise _Mismatch(name, f"Invalid integer: {value}", "parameter_invalid_integer")
        return int(value)
    if tp in (float, Decimal):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _Mismatch(name, f"Invalid decimal: {value}", "parameter_invalid_integer") from None
        return number if tp is Decimal else float(number)
    if tp is _NoneType:
        return _SKIP
    raise _Mismatch(name, f"Invalid {name}")  # pragma: no cover - every generated annotation is above
