"""The ATOM REST surface over atom_stripe, as a FastAPI router (``pip install atom_stripe[fastapi]``).

::

    from fastapi import FastAPI
    from atom_stripe import AsyncStripeClient
    from atom_stripe.contrib.fastapi import create_stripe_router

    stripe = AsyncStripeClient()

    def get_client() -> AsyncStripeClient:      # decides which key or account serves the caller
        return stripe

    app = FastAPI()
    app.include_router(create_stripe_router(get_client, webhook_secret="whsec_..."))

Every answer shares one envelope (``data``, ``has_more``, ``next_cursor``, ``request_id``: the
id of the Stripe call that made the answer). Creates answer 201. Stripe errors map to
400/402/403/404/409/429/502 with Stripe's type, code, message and request id: never a stack
trace or a secret (Stripe refusing the server's own key is a 502, its 403 a generic message).
``install_error_handlers(app)`` answers a host's own routes' Stripe errors the same way.
POST bodies are the client's typed parameters of the endpoint (from the table of endpoints):
an unknown or misspelled field, at any depth, is a 422 naming it. POSTs pass an
``Idempotency-Key`` header through. Lists never carry secret fields (``client_secret``).
The router never authenticates anyone: ``get_client`` is the host's dependency for that.
"""

import inspect
import re
import types
import typing
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Annotated, Any, Generic, Literal, TypeVar

import anyio
from typing_extensions import NotRequired, TypedDict, get_type_hints, is_typeddict

from .._extras import needs_extra

with needs_extra("fastapi"):
    from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request
    from fastapi.responses import JSONResponse
    from pydantic import (
        BaseModel,
        ConfigDict,
        Field,
        ValidationError,
        ValidatorFunctionWrapHandler,
        WrapValidator,
        with_config,
    )
    from pydantic_core import InitErrorDetails, PydanticCustomError

from .. import __version__
from .._client import AsyncStripeClient
from .._errors import (
    APIStatusError,
    CardError,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StripeError,
    StripeValueError,
)
from .._generated.endpoints import ENDPOINTS
from .._hooks import CallRecord, HookSet
from .._pagination import Page
from .._throttle import RateLimiterError, RateLimiterUnavailableError
from ..models import Account, Balance, Subscription
from ..models._base import is_secret_name
from ..types import check_params
from ..webhooks import NotificationRouter, WebhookRouter

__all__ = ["StripeRouter", "create_stripe_router", "error_response", "install_error_handlers"]

T = TypeVar("T")
SEARCHABLE = ("customers", "payments", "subscriptions", "products", "prices", "charges")
#: Room for every searchable name once, with separators and spaces.
SEARCH_LIST_CHARS = 200


class Envelope(BaseModel, Generic[T]):
    """Every answer: the data, the cursor for the next page, and Stripe's request id."""

    data: T
    has_more: bool = False
    next_cursor: str | None = None
    request_id: str | None = None


class ErrorBody(BaseModel):
    type: str
    code: str | None = None
    message: str
    param: str | None = None
    decline_code: str | None = None
    request_id: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    ok: bool
    latency_ms: float
    livemode: bool | None = None
    request_id: str | None = None
    error: str | None = None


class Info(BaseModel):
    name: str = "atom_stripe"
    version: str = __version__
    api_version: str
    stripe_account: str | None = None
    endpoints: list[str]


class Profile(BaseModel):
    id: str | None
    business_name: str | None = None
    email: str | None = None
    country: str | None = None
    default_currency: str | None = None
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None
    details_submitted: bool | None = None


#: The router's resources: URL segment -> (the client's namespace in the table of endpoints, id name).
#: Each gets ``GET /<segment>`` (its ``.list``), ``GET /<segment>/{id}`` (``.retrieve``) and
#: ``POST /<segment>`` (``.create``), their parameters, bodies and answers from the table's rows.
RESOURCES = {
    "payments": ("payment_intents", "payment_id"),
    "customers": ("customers", "customer_id"),
    "subscriptions": ("subscriptions", "subscription_id"),
    "products": ("products", "product_id"),
}
#: The paging parameters of a list, sent after its filters.
PAGING = ("limit", "starting_after", "ending_before")
Limit = Annotated[int, Query(ge=1, le=100)]
RANGE_KEYS = {"gt", "gte", "lt", "lte"}
KEYWORD = inspect.Parameter.KEYWORD_ONLY
#: A list route's query parameter -> the list parameter it is sent as (and its range bound).
Wire = dict[str, tuple[str, str | None]]
#: What the client adds to an unknown key's message, for Python callers only.
UNTYPED_HINT = " (pass untyped ones in extra_params=)"
#: The longest text a body or query string may carry: Stripe's OpenAPI spec gives most string
#: parameters ``maxLength: 5000`` (descriptions, names, query strings); a few have their own.
MAX_TEXT = 5000
TEXT_LIMITS = {
    # "Contains between 5 and 22 characters": https://docs.stripe.com/get-started/account/statement-descriptors
    "statement_descriptor": 22,
    "statement_descriptor_suffix": 22,
}
#: Stricter than Stripe's types where the router always was: amounts are positive.
NARROWER: dict[str, Any] = {
    "amount": Annotated[int, Field(gt=0, description="In the currency's minor unit (cents for USD)")],
}


def body_type(operation: str, name: str) -> Any:
    """The JSON body of ``operation``: its typed parameters from the table of endpoints.

    The body is checked as the client checks a call (``check_params``: an unknown or misspelled
    key at any depth, a wrong type or a missing key is a 422 naming it), then against the
    schema the OpenAPI document shows (a copy of the TypedDict refusing extra keys, which its
    nested TypedDicts inherit). What passes is forwarded as the caller sent it."""
    params = ENDPOINTS[operation].params_type
    if params is None:  # pragma: no cover - every create takes parameters
        raise TypeError(f"{operation} takes no parameters")
    fields = get_type_hints(params, include_extras=True)
    for key, narrower in NARROWER.items():
        if fields.get(key) is int:
            fields[key] = narrower if key in params.__required_keys__ else NotRequired[narrower]  # type: ignore[attr-defined]
    schema = with_config(ConfigDict(extra="forbid"))(TypedDict(name, fields))  # type: ignore[operator]

    def as_sent(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, dict):
            try:
                check_params(params, value)
            except StripeValueError as exc:
                raise mismatch(exc, value) from None
            too_long(value, ())
        handler(value)
        return value

    return Annotated[schema, WrapValidator(as_sent)]


def mismatch(exc: StripeValueError, value: Any) -> ValidationError:
    """The client's mismatch (``address[cty]``) as a validation error at its place in the body."""
    loc = tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^\[\]]+", exc.param or ""))
    found = value
    for part in loc:  # the value that does not fit, or the object that misses it
        try:
            found = found[part]
        except (KeyError, IndexError, TypeError):
            break
    error = PydanticCustomError("param_invalid", exc.message.removesuffix(UNTYPED_HINT))
    return ValidationError.from_exception_data("body", [InitErrorDetails(type=error, loc=loc, input=found)])


def too_long(value: Any, loc: tuple[str | int, ...]) -> None:
    """Refuse (a 422 at its place) any text in a body longer than Stripe takes."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                limit = TEXT_LIMITS.get(key, MAX_TEXT)
                if len(item) > limit:
                    error = PydanticCustomError(
                        "string_too_long", "{param}: at most {limit} characters", {"param": key, "limit": limit}
                    )
                    raise ValidationError.from_exception_data(
                        "body", [InitErrorDetails(type=error, loc=(*loc, key), input=f"{item[:20]}...")]
                    )
            else:
                too_long(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str) and len(item) > MAX_TEXT:
                error = PydanticCustomError("string_too_long", "at most {limit} characters", {"limit": MAX_TEXT})
                raise ValidationError.from_exception_data(
                    "body", [InitErrorDetails(type=error, loc=(*loc, index), input=f"{item[:20]}...")]
                )
            too_long(item, (*loc, index))


def is_plain(hint: Any) -> bool:
    """A parameter a query string carries as is: a string, number, flag, choice or list of strings."""
    if hint in (str, int, bool):
        return True
    args = typing.get_args(hint)
    if typing.get_origin(hint) is list:
        return args == (str,)
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and all(
        arg is str or typing.get_origin(arg) is Literal for arg in args
    )


def is_range(hint: Any) -> bool:
    """``created``-like: a timestamp or ``{gt, gte, lt, lte}``."""
    args = typing.get_args(hint)
    return int in args and any(is_typeddict(arg) and set(get_type_hints(arg)) <= RANGE_KEYS for arg in args)


def list_query(operation: str) -> tuple[list[inspect.Parameter], Wire]:
    """The query parameters of a list route: the plain parameters of the client's list call, a
    range such as ``created`` as ``created_gte`` and ``created_lte``, ``limit`` 1..100 (10 by
    default); and for each, the parameter (and range bound) it is sent as."""
    query: list[inspect.Parameter] = []
    wire: Wire = {}
    params = ENDPOINTS[operation].params_type
    for key, hint in get_type_hints(params).items() if params is not None else ():
        names = [(f"{key}_{bound}", bound) for bound in ("gte", "lte")] if is_range(hint) else [(key, None)]
        if key == "limit":
            annotation: Any = Limit
        elif is_range(hint):
            annotation = int | None
        elif is_plain(hint):
            text = hint is str or str in typing.get_args(hint)
            annotation = Annotated[hint | None, Query(max_length=MAX_TEXT) if text else Query()]
        else:
            continue
        for name, bound in names:
            default = 10 if key == "limit" else None
            query.append(inspect.Parameter(name, KEYWORD, default=default, annotation=annotation))
            wire[name] = (key, bound)
    return query, wire


def list_params(values: dict[str, Any], wire: Wire, order: Iterable[str]) -> dict[str, Any]:
    """A list route's query as the client's list parameters: the filters in the caller's order, then paging."""
    names = [n for n in dict.fromkeys(order) if n in wire and wire[n][0] not in PAGING]
    params: dict[str, Any] = {}
    for name in [*names, *(n for n in PAGING if n in wire)]:
        value = values.get(name)
        if value is None:
            continue
        key, bound = wire[name]
        if bound is None:
            params[key] = value
        else:
            params.setdefault(key, {})[bound] = value
    return params


class SearchGroup(BaseModel):
    data: list[dict[str, Any]] = []
    has_more: bool = False
    error: ErrorBody | None = None
    request_id: str | None = None


#: Anything else (a 5xx, no answer, and Stripe refusing the server's own key: a 401) is a 502.
STATUS_BY_ERROR: Sequence[tuple[type[StripeError], int]] = (
    (StripeValueError, 400),
    (NotFoundError, 404),
    (IdempotencyError, 409),
    (InvalidRequestError, 400),
    (CardError, 402),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (RateLimitError, 429),
)


FAILED = "Stripe could not be reached or failed."
#: Stripe's 403 names the server's key (its prefix and last four) and account: not for the caller.
FORBIDDEN = "Stripe refused this request: the server's API key lacks the permission it needs."
LOCAL_LIMIT = "Too many requests: this server's own rate limit for calls to Stripe is reached; Stripe was not called."
LIMITER_DOWN = "This server's shared rate limiter cannot be reached; Stripe was not called."


def error_body(exc: StripeError) -> tuple[int, ErrorBody]:
    """The HTTP status and body for a Stripe error (anything unexpected is a 502)."""
    if isinstance(exc, RateLimiterUnavailableError):
        return 503, ErrorBody(type="api_error", code="rate_limiter_unavailable", message=LIMITER_DOWN)
    if isinstance(exc, RateLimiterError):
        return 429, ErrorBody(type="rate_limit_error", code="local_rate_limit", message=LOCAL_LIMIT)
    status = next((code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)), 502)
    if isinstance(exc, StripeValueError):
        return status, ErrorBody(
            type="invalid_request_error", code="parameter_invalid", message=exc.message, param=exc.param
        )
    if isinstance(exc, PermissionDeniedError):
        return status, ErrorBody(
            type=exc.type or "invalid_request_error", code=exc.code, message=FORBIDDEN, request_id=exc.request_id
        )
    if isinstance(exc, APIStatusError) and status != 502:
        return status, ErrorBody(
            type=exc.type or type(exc).__name__,
            code=exc.code,
            message=exc.message,
            param=exc.param,
            decline_code=exc.decline_code,
            request_id=exc.request_id,
        )
    if isinstance(exc, APIStatusError):  # the server's fault: nothing of Stripe's message (it may name the key)
        return status, ErrorBody(type="api_error", message=FAILED, request_id=exc.request_id)
    return status, ErrorBody(type="api_connection_error", message=FAILED)


def error_response(exc: StripeError) -> JSONResponse:
    """The router's answer to a Stripe error: its status, ``{"error": {...}}``, and Stripe's
    ``Retry-After`` on a 429 (a client that honours it waits as long as Stripe asked)."""
    status, body = error_body(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitError):
        retry_after = exc.response.headers.get("retry-after")
        if retry_after is not None:
            headers["Retry-After"] = retry_after
    return JSONResponse(ErrorEnvelope(error=body).model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`~atom_stripe.StripeError` that escapes one of ``app``'s routes the
    way the router does (status, error envelope, ``Retry-After``): a host's own routes can
    let a ``CardError`` go and the caller gets a 402 with Stripe's decline code."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StripeError)
        return error_response(exc)

    app.add_exception_handler(StripeError, handle)


#: The request ids of the Stripe calls made while the router answers one request (see :func:`answer`).
_request_ids: ContextVar[list[str] | None] = ContextVar("atom_stripe_router_request_ids", default=None)
#: The hook sets (one per client and its copies) that already report request ids to the router.
_watched: weakref.WeakSet[HookSet] = weakref.WeakSet()


def _note_request_id(record: CallRecord) -> None:
    ids = _request_ids.get()
    if ids is not None and record.request_id:
        ids.append(record.request_id)


def watch(stripe: AsyncStripeClient) -> None:
    """Have ``stripe`` (and its copies) report each answered call's request id to the router:
    one ``on_response`` hook, added once per client."""
    hooks = getattr(getattr(stripe, "_requester", None), "hooks", None)
    if isinstance(hooks, HookSet) and hooks not in _watched:
        hooks.add("on_response", _note_request_id)
        _watched.add(hooks)


def _data(value: Any) -> dict[str, Any]:
    return {"data": value}


async def answer(stripe: AsyncStripeClient, call: Awaitable[Any], shape: Callable[[Any], Any] = _data) -> Any:
    """The enveloped result of a call with the request id of Stripe's answer, or the mapped error answer."""
    watch(stripe)
    ids: list[str] = []
    token = _request_ids.set(ids)
    try:
        result = await call
    except StripeError as exc:
        return error_response(exc)
    finally:
        _request_ids.reset(token)
    out = shape(result)
    out["request_id"] = ids[-1] if ids else None
    return out


def unknown_query(request: Request, known: Iterable[str]) -> JSONResponse | None:
    """A 400 naming the first query parameter the route does not take (``?limt=1``), else None."""
    allowed = set(known)
    for name in request.query_params:
        if name not in allowed:
            choices = ", ".join(sorted(allowed))
            return error_response(StripeValueError(name, f"is not a query parameter of this route; it takes {choices}"))
    return None


def without_secrets(value: Any) -> Any:
    """JSON data with every secret field (``client_secret``, ...) emptied, at every depth."""
    if isinstance(value, dict):
        return {k: None if is_secret_name(k) else without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def listed(item: Any) -> Any:
    """An object as a list shows it: without its secrets (only a create or retrieve gives those)."""
    return without_secrets(item.model_dump(mode="json", by_alias=True) if isinstance(item, BaseModel) else item)


def page_envelope(page: Page[Any]) -> dict[str, Any]:
    cursor = getattr(page.data[-1], "id", None) if page.has_more and page.data else None
    return {"data": [listed(item) for item in page.data], "has_more": page.has_more, "next_cursor": cursor}


def profile_of(account: Account) -> Profile:
    business = account.business_profile
    return Profile(
        id=account.id,
        business_name=business.name if business is not None else None,
        email=account.email,
        country=account.country,
        default_currency=account.default_currency,
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        details_submitted=account.details_submitted,
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 402, 403, 404, 409, 429, 502)
}


class StripeRouter(APIRouter):
    """What :func:`create_stripe_router` returns: an ``APIRouter`` that also holds the receivers it
    mounted (handlers may be added to the one it made from a ``webhook_secret``)."""

    #: The receiver of ``POST /stripe/webhooks`` (None: not mounted).
    webhook_router: WebhookRouter | None = None
    #: The receiver of ``POST /stripe/thin-events`` (None: not mounted).
    notification_router: NotificationRouter | None = None


def create_stripe_router(
    get_client: Callable[..., Any],
    *,
    prefix: str = "/stripe",
    webhook_secret: str | Sequence[str] | None = None,
    webhook_router: WebhookRouter | None = None,
    notification_router: NotificationRouter | None = None,
) -> StripeRouter:
    """The ``/stripe`` endpoints over the client that ``get_client`` (a FastAPI dependency) supplies.

    Give ``webhook_secret`` (or a ready ``webhook_router``) to also mount ``POST /stripe/webhooks``
    for snapshot events, and a ``notification_router`` to mount ``POST /stripe/thin-events`` for
    an event destination's thin events: each payload kind on its own path (and its own secret).
    """
    router = StripeRouter(prefix=prefix, tags=["stripe"], responses=ERRORS)
    Client = Annotated[AsyncStripeClient, Depends(get_client)]
    IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]

    def add_resource(resource: str) -> None:
        """``GET /<resource>``, ``GET /<resource>/{id}``, ``POST /<resource>``, from the table of endpoints."""
        namespace, id_name = RESOURCES[resource]
        singular = resource.removesuffix("s")
        model: Any = ENDPOINTS[f"{namespace}.retrieve"].result_type
        query, wire = list_query(f"{namespace}.list")

        async def list_route(request: Request, stripe: AsyncStripeClient, **values: Any) -> Any:
            refused = unknown_query(request, wire)
            if refused is not None:
                return refused
            params = list_params(values, wire, request.query_params.keys())
            return await answer(stripe, getattr(stripe, namespace).list(**params).first_page(), page_envelope)

        list_route.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("request", KEYWORD, annotation=Request),
                inspect.Parameter("stripe", KEYWORD, annotation=Client),
                *query,
            ]
        )
        router.add_api_route(f"/{resource}", list_route, name=f"list_{resource}", response_model=Envelope[list[model]])

        async def retrieve(stripe: Client, object_id: Annotated[str, Path(alias=id_name)]) -> Any:
            return await answer(stripe, getattr(stripe, namespace).retrieve(object_id))

        router.add_api_route(
            f"/{resource}/{{{id_name}}}", retrieve, name=f"get_{singular}", response_model=Envelope[model]
        )

        operation = f"{namespace}.create"
        Params = Annotated[body_type(operation, f"{singular.title()}Create"), Body()]  # type: ignore[valid-type]

        async def create(stripe: Client, body: Params, idempotency_key: IdempotencyKey = None) -> Any:  # type: ignore[valid-type]
            return await answer(stripe, getattr(stripe, namespace).create(**body, idempotency_key=idempotency_key))

        router.add_api_route(
            f"/{resource}",
            create,
            methods=["POST"],
            name=f"create_{singular}",
            response_model=Envelope[ENDPOINTS[operation].result_type],  # type: ignore[misc]
            status_code=201,
        )

    @router.get("/health", response_model=Envelope[Health])
    async def health(stripe: Client) -> Any:
        status = await stripe.health()
        error = type(status.error).__name__ if status.error is not None else None
        out = Health(
            ok=status.ok,
            latency_ms=status.latency_ms,
            livemode=status.livemode,
            request_id=status.request_id,
            error=error,
        )
        return {"data": out, "request_id": status.request_id}

    @router.get("/", response_model=Envelope[Info])
    async def info(stripe: Client) -> Any:
        endpoints = sorted(
            f"{method} {route.path}"  # type: ignore[attr-defined]
            for route in router.routes
            for method in getattr(route, "methods", ())
        )
        return {"data": Info(api_version=stripe.api_version, stripe_account=stripe.stripe_account, endpoints=endpoints)}

    for resource in RESOURCES:
        add_resource(resource)

    @router.delete("/subscriptions/{subscription_id}", response_model=Envelope[Subscription])
    async def cancel_subscription(stripe: Client, subscription_id: str) -> Any:
        return await answer(stripe, stripe.subscriptions.cancel(subscription_id))

    # -- search, account, balance ----------------------------------------------------

    @router.get("/search", response_model=Envelope[dict[str, SearchGroup]])
    async def search(
        request: Request,
        stripe: Client,
        q: Annotated[
            str, Query(min_length=1, max_length=MAX_TEXT, description="Stripe search query, e.g. email:'a@example.com'")
        ],
        resources: Annotated[
            str,
            Query(
                max_length=SEARCH_LIST_CHARS, description="Comma-separated, each at most once: " + ", ".join(SEARCHABLE)
            ),
        ] = "customers",
        limit: Limit = 10,
    ) -> Any:
        refused = unknown_query(request, ("q", "resources", "limit"))
        if refused is not None:
            return refused
        # Each resource at most once: one caller's request makes at most len(SEARCHABLE) Stripe calls.
        wanted = list(dict.fromkeys(r.strip() for r in resources.split(",") if r.strip()))
        unknown = [r for r in wanted if r not in SEARCHABLE]
        if unknown or not wanted:
            problem = f"{', '.join(repr(r[:40]) for r in unknown[:3])} cannot be searched; " if unknown else ""
            return error_response(StripeValueError("resources", f"{problem}choose from {', '.join(SEARCHABLE)}"))
        groups: dict[str, SearchGroup] = {}
        watch(stripe)

        async def one(name: str) -> None:
            namespace = getattr(stripe, name)
            ids: list[str] = []
            _request_ids.set(ids)  # this task's own context: each group gets its own call's id
            try:
                page = await namespace.search(query=q, limit=limit).first_page()
            except StripeError as exc:
                groups[name] = SearchGroup(error=error_body(exc)[1])
                return
            groups[name] = SearchGroup(
                data=[without_secrets(item.model_dump(mode="json")) for item in page.data],
                has_more=page.has_more,
                request_id=ids[-1] if ids else None,
            )

        async with anyio.create_task_group() as tg:
            for name in wanted:
                tg.start_soon(one, name)
        return {"data": {name: groups[name] for name in wanted}}

    @router.get("/profile", response_model=Envelope[Profile])
    async def profile(stripe: Client) -> Any:
        return await answer(stripe, stripe.account.retrieve(), lambda account: _data(profile_of(account)))

    @router.get("/account", response_model=Envelope[Account])
    async def account(stripe: Client) -> Any:
        return await answer(stripe, stripe.account.retrieve())

    @router.get("/balance", response_model=Envelope[Balance])
    async def balance(stripe: Client) -> Any:
        return await answer(stripe, stripe.balance.retrieve())

    # -- webhooks --------------------------------------------------------------------

    hooks = (
        webhook_router
        if webhook_router is not None
        else (WebhookRouter(webhook_secret) if webhook_secret is not None else None)
    )
    if hooks is not None:
        _receive(router, "/webhooks", "webhooks", hooks)
        router.webhook_router = hooks
    if notification_router is not None:
        if not isinstance(notification_router, NotificationRouter):
            raise StripeValueError("notification_router", "must be an atom_stripe.webhooks.NotificationRouter")
        _receive(router, "/thin-events", "thin_events", notification_router)
        router.notification_router = notification_router

    return router


def _receive(router: APIRouter, path: str, name: str, receiver: WebhookRouter) -> None:
    """``POST path``: Stripe's deliveries, answered by ``receiver``."""

    async def deliveries(request: Request) -> JSONResponse:
        # The router reads the body itself, as its asgi_app() does: at most its max_body
        # bytes (413 beyond, unread), before anything is verified.
        result = await receiver.handle_request(request.receive, request.headers.items())
        return JSONResponse(result.body, status_code=result.status_code)

    router.add_api_route(path, deliveries, methods=["POST"], name=name, response_model=dict[str, Any])
