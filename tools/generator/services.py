"""Services: the namespaces (one class per stripe-python service) and the client's top level."""

from __future__ import annotations

from dataclasses import dataclass, field

from .docs import doc_row
from .names import ALIASES, BANNER
from .stripe_reader import Op, Service, answers_deleted_stub, resolve
from .table import table_row

#: The call options alone (an operation without parameters of its own), v1's and v2's.
OPTIONS = {"ReadOptions", "WriteOptions", "V2ReadOptions", "V2WriteOptions"}
#: Table kinds of the operations that return a paginator.
PAGED = ("list:", "search:", "v2list:")
#: Hand-written helpers a namespace hands out beside its operations, where users look for them:
#: service path -> (the method, what it names for type checkers). The helper stays one
#: implementation (``AsyncStripeClient.meter_event_stream_writer`` is this method).
HELPERS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "v2.billing": (
        "    def meter_event_stream_writer(self, **options: Unpack[WriterOptions]) -> MeterEventStreamWriter:\n"
        '        """Meter events in batches on the high-throughput stream\n'
        "        (``async with client.v2.billing.meter_event_stream_writer() as w: await w.send(...)``);\n"
        '        see :class:`~atom_stripe.MeterEventStreamWriter`."""\n'
        "        from ..._meter_stream import stream_writer\n\n"
        "        return stream_writer(self._requester, options)",
        [("..._meter_stream", "MeterEventStreamWriter"), ("..._meter_stream", "WriterOptions")],
    ),
}


def result_type(op: Op, index: dict[type, tuple[str, str]]) -> tuple[str, str, list[tuple[str, str]]]:
    """(annotation for the method, the table's result spec, models to import for typing)."""
    text = op.result
    imports: list[tuple[str, str]] = []

    def one(name: str) -> str:
        name = name.strip().strip("'\"")
        if name.startswith("Union["):
            inner = [one(n) for n in split_args(name[6:-1])]
            return " | ".join(inner)
        cls = resolve(op.result_module, name)
        module, model = index[cls]
        imports.append((module, model))
        return model

    if op.stream:
        return "bytes", "bytes", imports
    if text == "None":  # v2's meter event stream: 202 Accepted, no body
        return "None", "none:", imports
    if text.startswith("ListObject[") and op.path.startswith("/v2/"):
        inner = one(text[len("ListObject[") : -1])
        return f"AsyncPaginator[{inner}, V2Page[{inner}]]", f"v2list:{inner}", imports
    if text.startswith("ListObject["):
        inner = one(text[len("ListObject[") : -1])
        return f"AsyncPaginator[{inner}, Page[{inner}]]", f"list:{inner}", imports
    if text.startswith("SearchResultObject["):
        inner = one(text[len("SearchResultObject[") : -1])
        return f"AsyncPaginator[{inner}, SearchPage[{inner}]]", f"search:{inner}", imports
    model = one(text)
    if "|" not in model and answers_deleted_stub(op):
        module, _ = imports[-1]
        imports[-1] = (module, f"Deleted{model}")
        return f"Deleted{model}", f"object:Deleted{model}", imports
    return model, f"object:{model}", imports


def split_args(text: str) -> list[str]:
    out, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        current += ch
    return [*out, current] if current.strip() else out


@dataclass
class Rendered:
    files: dict[str, str] = field(default_factory=dict)
    rows: list[str] = field(default_factory=list)
    docs: list[tuple[str, str]] = field(default_factory=list)


def render_service(
    service: Service, index: dict[type, tuple[str, str]], out: Rendered, params_of: dict[str, tuple[str, str, str]]
) -> None:
    methods: list[str] = []
    typing_imports: set[tuple[str, str]] = set()
    uses: set[str] = set()
    for op in service.ops:
        annotation, spec, model_imports = result_type(op, index)
        for module, name in model_imports:
            where = f"...models.{module[1:]}" if module.startswith("@") else f"..models.{module}"
            typing_imports.add((where, name))
        if spec.startswith(PAGED):
            uses.add("AsyncPaginator")
            uses.add({"list": "Page", "search": "SearchPage", "v2list": "V2Page"}[spec.partition(":")[0]])
        module, params, args = params_of[op.name]
        if args in OPTIONS:
            uses.add(args)
        else:
            typing_imports.add((f"..params.{module}", args))
        ids = "".join(f"{i}: str, " for i in op.ids)
        signature = f"self, {ids}/, **args: Unpack[{args}]" if op.ids else f"self, **args: Unpack[{args}]"
        call_ids = "".join(f", {i}" for i in op.ids)
        doc = op.doc.replace("\\", "\\\\").replace('"""', "'''") or f"{op.verb} {op.path}"
        doc_lines = doc.splitlines()
        doc_text = doc_lines[0] if len(doc_lines) == 1 else "\n        ".join(doc_lines) + "\n        "
        doc_text = f"{doc_text.rstrip()} (``{op.verb} {op.path}``)" if len(doc_lines) == 1 else doc_text
        if spec.startswith(PAGED):
            methods.append(
                f"    def {op.method}({signature}) -> {annotation}:\n"
                f'        """{doc_text}"""\n'
                f'        return self._list(ENDPOINTS["{op.name}"], args{call_ids})'
            )
        else:
            methods.append(
                f"    async def {op.method}({signature}) -> {annotation}:\n"
                f'        """{doc_text}"""\n'
                f'        return cast("{annotation}", await self._call(ENDPOINTS["{op.name}"], args{call_ids}))'
            )
            uses.add("cast")
        out.rows.append(table_row(op, spec, module, params))
        out.docs.append(doc_row(op, annotation, params))
    operations = bool(methods)
    if service.path in HELPERS:
        helper, names = HELPERS[service.path]
        methods.append(helper)
        typing_imports.update(names)
    subs: list[str] = []
    for name, sub in service.subservices.items():
        typing_imports.add((f".{sub.module}", sub.class_name))
        subs.append(
            f"    @cached_property\n"
            f"    def {name}(self) -> {sub.class_name}:\n"
            f'        """``{sub.path}``: {describe(sub)}."""\n'
            f"        from .{sub.module} import {sub.class_name}\n\n"
            f"        return {sub.class_name}(self._requester)"
        )
        for alias, target in ALIASES.items():
            if target == name and service.path == "":
                subs.append(
                    f"    @cached_property\n"
                    f"    def {alias}(self) -> {sub.class_name}:\n"
                    f'        """``{alias}``: the ``{target}`` namespace, under the name ATOM uses."""\n'
                    f"        return self.{name}"
                )
        render_service(sub, index, out, params_of)
    options = sorted(uses & OPTIONS)
    pages = sorted(uses & {"AsyncPaginator", "Page", "SearchPage", "V2Page"})
    head = [
        BANNER,
        f'"""``{service.path or "client"}``: {describe(service)}."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if subs:
        head.append("from functools import cached_property")
    head.append("from typing import TYPING_NAMES")
    if methods:
        head += ["", "from typing_extensions import Unpack"]
    head += ["", "from ..._service import Service"]
    if operations:
        head.append("from ..endpoints import ENDPOINTS")
    type_lines = ["", "if TYPE_CHECKING:"]
    if options:
        type_lines.append(f"    from ..._options import {', '.join(options)}")
    if pages:
        type_lines.append(f"    from ..._pagination import {', '.join(pages)}")
    for module, name in sorted(typing_imports):
        type_lines.append(f"    from {module} import {name}")
    # The table's rows are untyped (``_call`` returns Any): each method casts its answer to the
    # model the row names, as stripe-python's generated services do.
    typing_names = sorted(({"TYPE_CHECKING"} if len(type_lines) > 2 else set()) | (uses & {"cast"}))
    if len(type_lines) > 2:
        head += type_lines
    line = head.index("from typing import TYPING_NAMES")
    head[line] = f"from typing import {', '.join(typing_names)}" if typing_names else ""
    members = subs + methods
    if service.path == "":
        # The client's own namespaces: a mixin of AsyncStripeClient, light to import.
        head = [
            BANNER,
            '"""The client\'s top-level namespaces (a base class of ``AsyncStripeClient``)."""',
            "",
            "from __future__ import annotations",
            "",
            "from functools import cached_property",
            "from typing import TYPE_CHECKING",
            "",
            "if TYPE_CHECKING:",
            "    from .._request import Requester",
            *[line.replace("    from .", "    from .services.") for line in type_lines[2:]],
        ]
        body = (
            "class Namespaces:\n"
            '    """Every v1 namespace of stripe-python, and ``v2``, each loaded on first use."""\n\n'
            "    _requester: Requester\n\n"
            + "\n\n".join(m.replace("from .", "from .services.") for m in members)
            + "\n"
        )
        out.files["namespaces.py"] = "\n".join(head) + "\n\n\n" + body
        return
    body = f'class {service.class_name}(Service):\n    """{describe(service)}."""\n'
    if members:
        body += "\n" + "\n\n".join(members) + "\n"
    out.files[f"services/{service.module}.py"] = "\n".join(head) + "\n\n\n" + body


def describe(service: Service) -> str:
    if service.ops:
        return f"``{min((op.path for op in service.ops), key=len)}``"
    return "namespaces " + ", ".join(f"``{n}``" for n in service.subservices)
