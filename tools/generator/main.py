"""The whole run: read stripe-python, render every file, format them, write them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import stripe

from .docs import render_reference
from .models import ModelWriter, examples_by_object, render_fixture_model, render_model_index
from .names import BANNER, FIXTURES, ROOT, STRIPE_VERSION, model_module, model_name
from .notifications import render_event_models, render_events, render_notifications
from .output import format_files, write
from .params import params_module, read_params, render_params
from .services import Rendered, render_service
from .stripe_reader import (
    add_design_names,
    all_model_classes,
    all_services,
    answers_deleted_stub,
    read_service,
    resolve,
)
from .table import render_table
from .v2 import amount_class, param_encodings, read_v2_root, render_encodings, v2_model_classes


def generate() -> dict[str, str]:
    """Every generated file, by path in the repository."""
    root = read_service("stripe._v1_services", "V1Services", "")
    add_design_names(root)
    root.subservices["v2"] = read_v2_root()
    services = all_services(root)
    ops = [op for s in services for op in s.ops]
    files: dict[str, str] = {}

    # models
    # stripe's Event is hand-written here (atom_stripe.models.event: a union of typed events).
    classes = [cls for cls in all_model_classes() if cls is not stripe.Event] + v2_model_classes()
    # v2's shared shapes without an object type of their own: the amount, a delete's answer.
    classes += [amount_class(), stripe.v2.DeletedObject]
    index: dict[type, tuple[str, str]] = {cls: (model_module(cls), model_name(cls)) for cls in classes}
    index[stripe.Event] = ("@event", "Event")
    deletable = {resolve(op.result_module, op.result.strip("'")) for op in ops if answers_deleted_stub(op)}
    model_names: dict[str, str] = {}
    object_names: dict[str, str] = {"event": "Event"}
    fixtures = json.loads(FIXTURES.read_text())["resources"]
    examples = examples_by_object(fixtures)
    for cls in classes:
        writer = ModelWriter(cls, index, examples.get(getattr(cls, "OBJECT_NAME", "")))
        text = writer.render(cls in deletable)
        module = model_module(cls)
        files[f"models/{module}.py"] = text
        for name in re.findall(r"^class (\w+)\(", text, flags=re.M):
            model_names[name] = module
        if hasattr(cls, "OBJECT_NAME"):
            object_names[getattr(cls, "OBJECT_NAME")] = model_name(cls)
    for key, example in sorted(fixtures.items()):
        object_name = example.get("object")
        if key != object_name or object_name in object_names:
            continue
        module, name, text = render_fixture_model(object_name, example)
        files[f"models/{module}.py"] = text
        for cls_name in re.findall(r"^class (\w+)\(", text, flags=re.M):
            model_names[cls_name] = module
        object_names[object_name] = name
    for path, text in render_event_models(index).items():
        files[path] = text
        for name in re.findall(r"^class (\w+)\(", text, flags=re.M):
            model_names[name] = path.removeprefix("models/").removesuffix(".py")
    files.update(render_model_index(model_names, object_names))

    # params
    params_of: dict[str, tuple[str, str, str]] = {}
    for op in ops:
        v2 = op.path.startswith("/v2/")
        write = op.verb == "POST" or (v2 and op.verb == "DELETE")  # v2 DELETEs take a key too
        options = ("V2" if v2 else "") + ("WriteOptions" if write else "ReadOptions")
        if op.params is None:
            params_of[op.name] = ("", "", options)
            continue
        code, renames = read_params(op.params[0])
        params = renames[op.params[1]]
        if re.search(rf"class {params}\(TypedDict\):\n    pass", code) and not op.params_required:
            params_of[op.name] = ("", "", options)  # nothing but call options
            continue
        module = params_module(op.params[0])
        args = params.removesuffix("Params") + "Args"
        files[f"params/{module}.py"] = render_params(op, code, params, args, options)
        params_of[op.name] = (module, params, args)
    files["params/__init__.py"] = f'{BANNER}\n"""Typed parameters, one module per operation."""\n'

    # services and the table
    rendered = Rendered()
    render_service(root, index, rendered, params_of)
    files.update(rendered.files)
    docs = render_reference(rendered.docs)
    files["services/__init__.py"] = f'{BANNER}\n"""The namespaces, one module per stripe-python service."""\n'
    files["endpoints.py"] = render_table(rendered.rows)
    files["v2_encodings.py"] = render_encodings(param_encodings(root.subservices["v2"]))
    files["__init__.py"] = (
        f'{BANNER}\n"""Everything generated from stripe-python {STRIPE_VERSION}: the table of endpoints, '
        'params, models, namespaces."""\n\nSTRIPE_PYTHON_VERSION = "' + STRIPE_VERSION + '"\n'
    )
    files["notifications.py"] = render_notifications(set(model_names))
    files["events.py"] = render_events()
    out = {f"src/atom_stripe/_generated/{rel}": text for rel, text in files.items()}
    out["docs/namespaces.md"] = docs
    return format_files(out)


def main(argv: list[str]) -> None:
    root = Path(argv[1]) if len(argv) > 1 else ROOT
    files = generate()
    write(files, root)
    print(f"wrote {len(files)} files under {root}")
