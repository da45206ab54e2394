"""What generated models share: lazy references between object types, deleted stubs, and
parsing an object by its ``object`` field."""

from __future__ import annotations

import copyreg
from functools import cache
from importlib import import_module
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, ValidationError
from pydantic_core import core_schema

from ._base import NONE_IF_OMITTED, StripeObject

_GENERATED = "atom_stripe._generated.models"


@cache
def model_class(name: str) -> Any:
    """The model class (or, for ``Event``, the typed event adapter's type) named ``name``."""
    if name == "Event":
        from .event import event_adapter

        return event_adapter()
    from .._generated.models import module_of

    return getattr(import_module(f"{_GENERATED}.{module_of(name)}"), name)


@cache
def object_model(object_name: str) -> Any:
    """The model for a Stripe ``object`` value (``"customer"``), or None when unknown."""
    from .._generated.models import OBJECTS

    name = OBJECTS.get(object_name)
    return model_class(name) if name is not None else None


def parse_object(value: Any) -> Any:
    """A dict parsed into the model its ``object`` field names (a plain StripeObject when unknown)."""
    if not isinstance(value, dict):
        return value
    model = object_model(value.get("object", "")) if isinstance(value.get("object"), str) else None
    if model is None:
        return StripeObject.model_validate(value)
    return model.validate_python(value) if hasattr(model, "validate_python") else model.model_validate(value)


class _LazyMeta(type):
    """The type of lazy stand-ins: pickled by how to make them again (see ``copyreg`` below)."""

    _lazy_target: tuple[str, str]


def _pickle_lazy(cls: _LazyMeta) -> tuple[Any, tuple[str, str]]:
    return lazy_model, cls._lazy_target


copyreg.pickle(_LazyMeta, _pickle_lazy)


@cache
def lazy_model(module: str, name: str) -> Any:
    """A stand-in for another object type's model in annotations: it loads that model's module
    only when a value of that type is first validated, so one model never loads the others.

    An object whose ``object`` field names another type is refused (so unions of object types
    pick the right one); a plain id string is refused too (expandable fields say ``str | X``).
    """

    resolved: list[Any] = []  # [model, its validator, the object names it takes], once loaded

    def target() -> list[Any]:
        if not resolved:
            model = getattr(import_module(f"{_GENERATED}.{module}"), name)
            if not model.__pydantic_complete__:
                model.model_rebuild()  # its schema, now: the validator kept below is the real one
            expected = model.model_fields.get("object")
            allowed = getattr(expected.annotation, "__args__", ()) if expected is not None else ()
            kinds = frozenset(allowed) if allowed and isinstance(allowed[0], str) else None
            resolved[:] = [model, model.__pydantic_validator__, kinds]
        return resolved

    def validate(value: Any) -> Any:
        model, validator, kinds = resolved or target()
        if isinstance(value, model):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"expected a {name} object")
        kind = value.get("object")
        if kind is not None and kinds is not None and kind not in kinds:
            raise ValueError(f"a {kind!r} object is not a {name}")
        try:
            return validator.validate_python(value)
        except ValidationError:
            return model.model_validate(value)  # the lenient pass (see StripeObject.model_validate)

    class Lazy(metaclass=_LazyMeta):
        _lazy_target = (module, name)

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
            # No serializer of its own: pydantic serializes the value by its runtime type (the
            # model), so include/exclude, by_alias and exclude_unset reach inside it.
            return core_schema.no_info_plain_validator_function(validate)

        @classmethod
        def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
            return {"type": "object", "title": name}

    Lazy.__name__ = Lazy.__qualname__ = name
    return Lazy


class DeletedObject(StripeObject):
    """What Stripe answers to a DELETE: the id, the object type and ``deleted: true``."""

    id: str = NONE_IF_OMITTED
    object: str = NONE_IF_OMITTED
    deleted: Literal[True] = True
