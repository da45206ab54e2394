"""The base of every atom_stripe model, and how an answer that does not quite fit is kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar, SupportsIndex, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

from .._compat import FIELDS_SET, fields_set_of, skip_post_init

logger = logging.getLogger("atom_stripe")

T = TypeVar("T")

#: The default of a field Stripe always sends: ``None``. A server that speaks an older API
#: shape (localstripe, for one) may leave such a field out, and it then reads as ``None``
#: though its annotation (``id: str``) says what Stripe sends; typed ``Any`` so that the
#: annotation, which is what a caller reads, stays the type of every real answer.
NONE_IF_OMITTED: Any = None

#: Field names whose values are secrets and are masked in reprs (so is any name ending in
#: ``_secret``, see :func:`masked`).
SECRET_FIELDS = frozenset({"client_secret", "secret", "access_token", "refresh_token", "api_key", "secret_key"})
#: What a repr shows in place of a secret.
MASK = "**********"
#: Text that is a secret whatever its key is called: API keys, webhook signing secrets, and
#: client secrets (``pi_..._secret_...``, ``seti_..._secret_...``).
_SECRET_TEXT = ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_")

#: How many times the lenient pass sets fields aside and validates again before giving up.
_MAX_ROUNDS = 8
#: (model, field) pairs already logged: each is logged once per process.
_logged: set[tuple[str, str]] = set()

#: Shared ``__pydantic_fields_set__`` sets, one per distinct set of field names (see
#: :meth:`StripeObject.model_post_init`), their ids, and the last one used per class.
_shared_sets: dict[frozenset[str], set[str]] = {}
_shared_ids: set[int] = set()
_last_shared: dict[type, set[str]] = {}
#: At most this many distinct sets are shared; objects with others keep their own.
_MAX_SHARED = 4096
#: Types with fewer fields than this keep their own sets: a set of at most four names fits in
#: the set object itself (~200 bytes), and sharing it would cost a call per object (a 100-item
#: customer page: 9% faster to parse this way, for 4.3x its JSON in memory instead of 3.7x).
_SHARED_FROM_FIELDS = 5


class StripeObject(BaseModel):
    """A Stripe API object: typed fields, plus any field Stripe adds later kept as extra.

    A field whose value does not fit its type does not lose the object: the field reads as
    its default (``None``), the raw value is kept (in :attr:`model_invalid`, and in
    ``model_dump()``), and a warning is logged once per model and field.
    """

    model_config = ConfigDict(
        extra="allow",
        defer_build=True,
        protected_namespaces=(),
        populate_by_name=True,
        arbitrary_types_allowed=False,
    )

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            return validate_leniently(lambda data: super(StripeObject, cls).model_validate(data, **kwargs), obj, exc)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        # Only a failed validation pays for the lenient pass; one that succeeds costs a frame.
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            validate = lambda data: super(StripeObject, cls).model_validate(data, **kwargs)  # noqa: E731
            return validate_json_leniently(validate, json_data, exc)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if len(cls.model_fields) < _SHARED_FROM_FIELDS and cls.model_post_init is StripeObject.model_post_init:
            skip_post_init(cls)  # see _SHARED_FROM_FIELDS

    def model_post_init(self, context: Any, /) -> None:
        """Share the set of field names Stripe sent among the objects that got the same ones.

        pydantic gives every object its own ``__pydantic_fields_set__``: for a Customer, a set
        of some twenty names, about 2 KB, more than half the memory of a parsed list page and
        one more object for the garbage collector to track. Objects of one type from one
        API answer nearly always have the same fields, so they share one set; assigning or
        deleting a field gives an object its own set back first (``__setattr__``)."""
        fields_set = fields_set_of(self)
        shared = _last_shared.get(type(self))
        if shared is not None and shared == fields_set:  # the common case, kept short
            _set(self, FIELDS_SET, shared)
        else:
            _share(self, fields_set)

    def _own_fields_set(self) -> None:
        fields_set = fields_set_of(self)
        if id(fields_set) in _shared_ids:
            _set(self, FIELDS_SET, set(fields_set))

    def __setattr__(self, name: str, value: Any) -> None:
        self._own_fields_set()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self._own_fields_set()
        super().__delattr__(name)

    @property
    def model_invalid(self) -> dict[str, Any]:
        """The fields whose values did not fit their types, with the raw values Stripe sent."""
        extra = self.__pydantic_extra__
        if not extra:
            return {}
        fields = type(self).model_fields
        return {name: value for name, value in extra.items() if name in fields}

    #: Fields of this model that hold secrets besides :data:`SECRET_FIELDS` (set by the generator).
    __secret_fields__: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Any:
        secrets = type(self).__secret_fields__
        for name, value in super().__repr_args__():
            if value is not None:
                yield name, MASK if name in secrets else masked(value, name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # A parametrized generic model (Page[Customer], EventData[Invoice]) has no importable
        # name: pickle it as its origin, its arguments and its state.
        meta = type(self).__pydantic_generic_metadata__
        if meta["origin"] is None:
            return super().__reduce_ex__(protocol)
        return _rebuild_generic, (meta["origin"], meta["args"], self.__getstate__())


def is_secret_name(key: Any) -> bool:
    """Whether a field or key of this name holds a secret."""
    return isinstance(key, str) and (key in SECRET_FIELDS or key.endswith("_secret"))


def masked(value: Any, key: Any = None) -> Any:
    """``value`` as a repr may show it: the value of a secret key (:data:`SECRET_FIELDS`, or a
    name ending in ``_secret``) and secret-shaped text masked, at any depth of dicts, lists and
    tuples (escape-hatch results, expanded objects and ``previous_attributes`` stay dicts).
    Models inside are left to their own repr, which masks the same way."""
    if value is not None and is_secret_name(key):
        return MASK
    if isinstance(value, str):
        return MASK if value.startswith(_SECRET_TEXT) or "_secret_" in value else value
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v) for v in value] if isinstance(value, list) else tuple(masked(v) for v in value)
    return value


def _rebuild_generic(origin: Any, args: tuple[Any, ...], state: Any) -> Any:
    cls = origin[args if len(args) > 1 else args[0]]
    obj = cls.__new__(cls)
    obj.__setstate__(state)
    return obj


_set = object.__setattr__


def _share(model: StripeObject, fields_set: set[str]) -> None:
    """Give ``model`` the shared set equal to its own, made shared if it is the first."""
    key = frozenset(fields_set)
    shared = _shared_sets.get(key)
    if shared is None:
        if len(_shared_sets) >= _MAX_SHARED:
            return
        shared = _shared_sets[key] = fields_set
        _shared_ids.add(id(fields_set))
    _last_shared[type(model)] = shared
    _set(model, FIELDS_SET, shared)


def validate_json_leniently(
    validate: Callable[[Any], T], json_data: str | bytes | bytearray, error: ValidationError
) -> T:
    """:func:`validate_leniently` for JSON text; a body that is not JSON re-raises ``error``."""
    if any(e["type"] == "json_invalid" for e in error.errors(include_url=False, include_input=False)):
        raise error
    return validate_leniently(validate, json.loads(json_data), error)


def validate_leniently(validate: Callable[[Any], T], raw: Any, error: ValidationError) -> T:
    """Validate ``raw`` again with every value that does not fit set aside, then keep those raw
    values in the extras of the model that owns them. Re-raises ``error`` when that cannot help
    (the object itself is not an object, or a required field is missing)."""
    data = _copy(raw)
    aside: list[tuple[list[str | int], Any, str]] = []
    current = error
    for _ in range(_MAX_ROUNDS):
        paths = _odd_paths(data, current)
        if paths is None:
            raise error
        for path, message in paths:
            parent = _walk(data, path[:-1])
            aside.append((path, parent.pop(path[-1]), message))
        try:
            result = validate(data)
        except ValidationError as exc:
            current = exc
            continue
        for path, value, message in aside:
            _keep(result, path, value, message)
        return result
    raise error


def _odd_paths(data: Any, error: ValidationError) -> list[tuple[list[str | int], str]] | None:
    """For each error, the path through ``data`` to the dict key whose value does not fit
    (union tags in the error's location skipped); None when some error has no such key."""
    found: dict[tuple[str | int, ...], str] = {}
    for e in error.errors(include_url=False, include_input=False):
        path: list[str | int] = []
        cursor = data
        for part in e["loc"]:
            if isinstance(cursor, dict) and part in cursor:
                cursor = cursor[part]
            elif isinstance(cursor, list) and isinstance(part, int) and 0 <= part < len(cursor):
                cursor = cursor[part]
            else:
                continue
            path.append(part)
        if e["type"] == "missing" or not path or not isinstance(path[-1], str):
            return None
        found.setdefault(tuple(path), e["msg"])
    # The deepest only: setting a.b aside is enough when a.b.c does not fit.
    return [(list(p), msg) for p, msg in found.items() if not any(len(q) > len(p) and q[: len(p)] == p for q in found)]


def _copy(data: Any) -> Any:
    """Dicts and lists copied (the lenient pass pops from them), everything else shared."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _walk(data: Any, path: list[str | int]) -> Any:
    for part in path:
        data = getattr(data, str(part), None) if isinstance(data, BaseModel) else data[part]
    return data


def _keep(result: Any, path: list[str | int], value: Any, message: str) -> None:
    """Put a raw value back into the model that owns it (a plain dict gets it back as is)."""
    owner = result
    for part in path[:-1]:
        if isinstance(owner, BaseModel):
            owner = getattr(owner, str(part), None)
        elif isinstance(owner, (dict, list)):
            owner = owner[part]  # type: ignore[index]
        if owner is None:
            return
    name = str(path[-1])
    if isinstance(owner, BaseModel):
        if owner.__pydantic_extra__ is None:
            object.__setattr__(owner, "__pydantic_extra__", {})
        assert owner.__pydantic_extra__ is not None
        owner.__pydantic_extra__[name] = value
        key = (type(owner).__name__, name)
        if key not in _logged:
            _logged.add(key)
            logger.warning("%s.%s: a value that does not fit (%s); kept raw in model_invalid", key[0], name, message)
    elif isinstance(owner, dict):
        owner[name] = value
