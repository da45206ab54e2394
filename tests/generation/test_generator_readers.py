"""The generator's readers: one stripe-python service, one params module, one annotation."""

from __future__ import annotations

import sys

import stripe

from ..helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from generator.names import model_module, model_name
from generator.params import read_params, unquote_plain, untyped
from generator.stripe_reader import answers_deleted_stub, import_map, read_service, resolve


def test_reading_one_service_gives_each_operation_as_stripe_python_declares_it() -> None:
    service = read_service("stripe._ephemeral_key_service", "EphemeralKeyService", "ephemeral_keys")
    assert service.class_name == "EphemeralKeyService" and service.module == "ephemeral_key"
    got = [(op.name, op.verb, op.path, op.ids, op.params, op.params_required, op.result, op.host) for op in service.ops]
    assert got == [
        (
            "ephemeral_keys.delete", "DELETE", "/v1/ephemeral_keys/{key}", ["key"],
            ("stripe.params._ephemeral_key_delete_params", "EphemeralKeyDeleteParams"), False, "EphemeralKey", "api",
        ),
        (
            "ephemeral_keys.create", "POST", "/v1/ephemeral_keys", [],
            ("stripe.params._ephemeral_key_create_params", "EphemeralKeyCreateParams"), False, "EphemeralKey", "api",
        ),
    ]  # fmt: skip
    assert service.ops[0].doc == "Invalidates a short-lived API key for a given resource."


def test_reading_nested_services_and_the_files_host() -> None:
    service = read_service("stripe._file_service", "FileService", "files")
    create = next(op for op in service.ops if op.method == "create")
    assert (create.verb, create.path, create.host) == ("POST", "/v1/files", "files")
    customers = read_service("stripe._customer_service", "CustomerService", "customers")
    assert "balance_transactions" in customers.subservices
    nested = customers.subservices["balance_transactions"]
    assert nested.ops[0].name.startswith("customers.balance_transactions.")


def test_a_delete_answers_a_stub_only_where_stripe_python_declares_deleted() -> None:
    customers = {op.method: op for op in read_service("stripe._customer_service", "CustomerService", "customers").ops}
    keys = {op.method: op for op in read_service("stripe._ephemeral_key_service", "EphemeralKeyService", "k").ops}
    assert answers_deleted_stub(customers["delete"])
    assert not answers_deleted_stub(customers["retrieve"])
    assert not answers_deleted_stub(keys["delete"])  # Stripe answers the whole ephemeral key


def test_names_resolve_inside_stripe_modules_as_their_imports_say() -> None:
    import stripe.terminal._reader_service as module

    assert import_map(module)["Reader"] == ("stripe.terminal._reader", "Reader")
    reader = resolve(module, "Reader")
    assert reader is stripe.terminal.Reader
    assert (model_module(reader), model_name(reader)) == ("terminal_reader", "TerminalReader")


def test_reading_one_params_module() -> None:
    code, renames = read_params("stripe.params.terminal._reader_create_params")
    assert renames == {"ReaderCreateParams": "TerminalReaderCreateParams"}
    assert "class TerminalReaderCreateParams(TypedDict):" in code
    assert "\n    expand:" not in code  # a call option, not a parameter
    assert "RequestOptions" not in code and "from " not in code


def test_annotations_of_typing_names_only_are_unquoted_and_class_references_stay_quoted() -> None:
    code = (
        "class A(TypedDict):\n"
        "    a: NotRequired[\"Literal['x', 'y']|str\"]\n"
        "    b: NotRequired[\"Literal['']|AB\"]\n"
        '    c: "List[int]"\n'
        '    d: "AB"\n'
    )
    assert unquote_plain(code) == (
        "class A(TypedDict):\n"
        "    a: NotRequired[Literal['x', 'y']|str]\n"
        "    b: NotRequired[\"Literal['']|AB\"]\n"
        "    c: List[int]\n"
        '    d: "AB"\n'
    )


def test_untyped_stripe_objects_become_plain_dicts() -> None:
    assert untyped("x: str|UntypedStripeObject[int]") == "x: str"
    assert untyped("x: UntypedStripeObject[List[str]]") == "x: Dict[str, List[str]]"
