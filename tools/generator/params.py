"""Params: one stripe-python params module made a standalone module of TypedDicts."""

from __future__ import annotations

import importlib
import inspect
import re

from .names import BANNER, OPTION_NAMES, camel, module_parts, snake
from .stripe_reader import Op


def params_module(stripe_module: str) -> str:
    return snake(module_parts(stripe_module)[1:]).removesuffix("_params")


def params_class(stripe_module: str, name: str) -> str:
    return "".join(camel(p) for p in module_parts(stripe_module)[1:-1]) + name


def read_params(stripe_module: str) -> tuple[str, dict[str, str]]:
    """One stripe params module made standalone: its classes renamed with their sub-package
    prefix, without stripe's imports, ``RequestOptions`` and the top-level ``expand``."""
    text = inspect.getsource(importlib.import_module(stripe_module))
    lines = [line for line in text.splitlines() if not line.startswith(("#", "from ", "import "))]
    code = "\n".join(lines).strip("\n")
    code = code.replace("(RequestOptions):", "(TypedDict):")
    code = untyped(code)
    names = re.findall(r"^class (\w+)\(", code, flags=re.M) + re.findall(r"^(\w+) = TypedDict\(", code, flags=re.M)
    renames = {n: params_class(stripe_module, n) for n in names}
    for old, new in renames.items():
        if old != new:
            code = re.sub(rf"\b{old}\b", new, code)
    # A functional TypedDict (for keys such as ``in``) is named as its variable.
    code = re.sub(r'^(\w+) = TypedDict\(\n    "\w+",', r'\1 = TypedDict(\n    "\1",', code, flags=re.M)
    # The top-level ``expand`` is a call option of every method; drop it from the parameters.
    code = re.sub(r'\n    expand: NotRequired\[[^\n]*\]\n    """\n(?:    [^\n]*\n)*?    """', "", code)
    code = re.sub(r"(class \w+\(TypedDict\):)(?=\n\n|$)", r"\1\n    pass", code)
    for key in OPTION_NAMES:
        assert not re.search(rf"^    {key}: ", code, flags=re.M), (stripe_module, key)
    return unquote_plain(code), renames


#: Names an annotation may use and still be evaluated where it stands (no class defined later).
PLAIN_NAMES = {"Any", "Decimal", "Dict", "List", "Literal", "Optional", "Union", "bool", "float", "int", "str"}


def unquote_plain(code: str) -> str:
    """Annotations made only of typing names, builtins and literals, unquoted
    (``NotRequired["Literal['a', 'b']|str"]`` -> ``NotRequired[Literal['a', 'b']|str]``), so that
    ruff can break a long ``Literal`` over lines; those naming a class stay quoted (a forward
    reference: params modules cannot use ``from __future__ import annotations``, which would hide
    ``NotRequired`` from the TypedDict's required keys)."""

    def plain(text: str) -> bool:
        names = set(re.findall(r"\b[A-Za-z_]\w*\b", re.sub(r"'[^']*'", "", text)))
        return names <= PLAIN_NAMES

    def unquote(match: re.Match[str]) -> str:
        return f"{match[1]}{match[2]}{match[3]}" if plain(match[2]) else match[0]

    code = re.sub(r'(NotRequired\[\s*)"([^"\n]*)"(\s*\])', unquote, code)
    return re.sub(r'^(    \w+: )"([^"\n]*)"()$', unquote, code, flags=re.M)


def untyped(code: str) -> str:
    """``X|UntypedStripeObject[T]`` -> ``X``; a lone ``UntypedStripeObject[T]`` -> ``Dict[str, T]``."""
    marker = "UntypedStripeObject["
    while marker in code:
        start = code.index(marker)
        depth, end = 0, start + len(marker) - 1
        for end in range(start + len(marker) - 1, len(code)):
            depth += code[end] == "["
            depth -= code[end] == "]"
            if depth == 0:
                break
        inner = code[start + len(marker) : end]
        if code[start - 1] == "|":
            code = code[: start - 1] + code[end + 1 :]
        else:
            code = code[:start] + f"Dict[str, {inner}]" + code[end + 1 :]
    return code


def code_names(code: str) -> set[str]:
    """The typing names a module's code (not its docstrings) uses."""
    bare = re.sub(r'"""(?:.|\n)*?"""', "", code)
    return set(re.findall(r"\b(Any|Dict|List|Optional|Union|Literal|NotRequired|Decimal)\b", bare))


AMOUNT_PARAM = '''class AmountParam(TypedDict):
    """An amount in minor units of its currency (v2's shape)."""

    value: int
    currency: str'''


def render_params(op: Op, code: str, params: str, args: str, options: str) -> str:
    used = code_names(code)
    typing_names = sorted(used & {"Any", "Dict", "List", "Optional", "Union"})
    ext_names = sorted((used & {"Literal", "NotRequired"}) | {"TypedDict"})
    head = [BANNER, f'"""Parameters of ``{op.name}`` ({op.verb} {op.path})."""', ""]
    if "Decimal" in used:
        head.append("from decimal import Decimal")
    if typing_names:
        head.append(f"from typing import {', '.join(typing_names)}")
    head += [f"from typing_extensions import {', '.join(ext_names)}", "", f"from ..._options import {options}"]
    if re.search(r"\bAmountParam\b", code) and "class AmountParam(" not in code:
        code = AMOUNT_PARAM + "\n\n\n" + code  # stripe.v2._amount's, shared by v2 params
    body = code + f'\n\n\nclass {args}({params}, {options}):\n    """{params} and the call options."""\n'
    return "\n".join(head) + "\n\n\n" + body
