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

Every answer shares one envelope (``data``, ``has_more``, ``next_cursor``, ``request_id``).
Stripe errors map to 400/402/403/404/409/429/502 with Stripe's type, code, message and
request id: never a stack trace or a secret (Stripe refusing the server's own key is a 502).
POST bodies are the client's typed parameters of the endpoint (from the table of endpoints):
an unknown or misspelled field, at any depth, is a 422 naming it. POSTs pass an
``Idempotency-Key`` header through. Lists never carry secret fields (``client_secret``).
The router never authenticates anyone: ``get_client`` is the host's dependency for that.
"""

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import anyio
from fastapi import APIRouter, Body, Depends, Header, Query, Request
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
from typing_extensions import NotRequired, TypedDict, get_type_hints

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
from .._models import SECRET_FIELDS
from .._pagination import Page
from .._params import check_params
from ..models import Account, Balance, Customer, PaymentIntent, Product, Subscription
from ..webhooks import WebhookRouter

T = TypeVar("T")
SEARCHABLE = ("customers", "payments", "subscriptions", "products", "prices", "charges")


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


#: The create routes: URL segment -> (the client's operation in the table of endpoints, body name).
CREATES = {
    "payments": ("payment_intents.create", "PaymentCreate"),
    "customers": ("customers.create", "CustomerCreate"),
    "subscriptions": ("subscriptions.create", "SubscriptionCreate"),
    "products": ("products.create", "ProductCreate"),
}
#: What the client adds to an unknown key's message, for Python callers only.
UNTYPED_HINT = " (pass untyped ones in extra_params=)"
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
                raise misfit(exc, value) from None
        handler(value)
        return value

    return Annotated[schema, WrapValidator(as_sent)]


def misfit(exc: StripeValueError, value: Any) -> ValidationError:
    """The client's misfit (``address[cty]``) as a validation error at its place in the body."""
    loc = tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^\[\]]+", exc.param or ""))
    found = value
    for part in loc:  # the value that does not fit, or the object that misses it
        try:
            found = found[part]
        except (KeyError, IndexError, TypeError):
            break
    error = PydanticCustomError("param_invalid", exc.message.removesuffix(UNTYPED_HINT))
    return ValidationError.from_exception_data("body", [InitErrorDetails(type=error, loc=loc, input=found)])


class SearchGroup(BaseModel):
    data: list[dict[str, Any]] = []
    has_more: bool = False
    error: ErrorBody | None = None


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


def error_body(exc: StripeError) -> tuple[int, ErrorBody]:
    """The HTTP status and body for a Stripe error (anything unexpected is a 502)."""
    status = next((code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)), 502)
    if isinstance(exc, StripeValueError):
        return status, ErrorBody(
            type="invalid_request_error", code="parameter_invalid", message=exc.message, param=exc.param
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
    status, body = error_body(exc)
    return JSONResponse(ErrorEnvelope(error=body).model_dump(exclude_none=True), status_code=status)


def _data(value: Any) -> dict[str, Any]:
    return {"data": value}


async def answer(call: Awaitable[Any], shape: Callable[[Any], Any] = _data) -> Any:
    """The enveloped result of a call, or the mapped error answer."""
    try:
        result = await call
    except StripeError as exc:
        return error_response(exc)
    return shape(result)


def present(**params: Any) -> dict[str, Any]:
    """The parameters that were given (query parameters left out are None)."""
    return {k: v for k, v in params.items() if v is not None}


def without_secrets(value: Any) -> Any:
    """JSON data with every secret field (``client_secret``, ...) emptied, at every depth."""
    if isinstance(value, dict):
        return {k: None if k in SECRET_FIELDS else without_secrets(v) for k, v in value.items()}
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


def created_range(gte: int | None, lte: int | None) -> dict[str, int] | None:
    bounds = {k: v for k, v in (("gte", gte), ("lte", lte)) if v is not None}
    return bounds or None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 402, 403, 404, 409, 429, 502)
}


def create_stripe_router(
    get_client: Callable[..., Any],
    *,
    prefix: str = "/stripe",
    webhook_secret: str | Sequence[str] | None = None,
    webhook_router: WebhookRouter | None = None,
) -> APIRouter:
    """The ``/stripe`` endpoints over the client that ``get_client`` (a FastAPI dependency) supplies.

    Give ``webhook_secret`` (or a ready ``webhook_router``) to also mount ``POST /stripe/webhooks``.
    """
    router = APIRouter(prefix=prefix, tags=["stripe"], responses=ERRORS)
    Client = Annotated[AsyncStripeClient, Depends(get_client)]
    IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
    Limit = Annotated[int, Query(ge=1, le=100)]

    def add_create(resource: str) -> None:
        """``POST /<resource>``: the body is the endpoint's typed parameters, passed on as sent."""
        operation, name = CREATES[resource]
        namespace = operation.rpartition(".")[0]
        Params = Annotated[body_type(operation, name), Body()]  # type: ignore[valid-type]

        async def create(stripe: Client, body: Params, idempotency_key: IdempotencyKey = None) -> Any:  # type: ignore[valid-type]
            return await answer(getattr(stripe, namespace).create(**body, idempotency_key=idempotency_key))

        router.add_api_route(
            f"/{resource}",
            create,
            methods=["POST"],
            name=f"create_{resource}",
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

    # -- payments --------------------------------------------------------------------

    @router.get("/payments", response_model=Envelope[list[PaymentIntent]])
    async def list_payments(
        stripe: Client,
        customer: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: Limit = 10,
        starting_after: str | None = None,
    ) -> Any:
        params = present(
            customer=customer,
            created=created_range(created_gte, created_lte),
            limit=limit,
            starting_after=starting_after,
        )
        return await answer(stripe.payments.list(**params).first_page(), page_envelope)

    @router.get("/payments/{payment_id}", response_model=Envelope[PaymentIntent])
    async def get_payment(stripe: Client, payment_id: str) -> Any:
        return await answer(stripe.payments.retrieve(payment_id))

    add_create("payments")

    # -- customers -------------------------------------------------------------------

    @router.get("/customers", response_model=Envelope[list[Customer]])
    async def list_customers(
        stripe: Client,
        email: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: Limit = 10,
        starting_after: str | None = None,
    ) -> Any:
        params = present(
            email=email, created=created_range(created_gte, created_lte), limit=limit, starting_after=starting_after
        )
        return await answer(stripe.customers.list(**params).first_page(), page_envelope)

    @router.get("/customers/{customer_id}", response_model=Envelope[Customer])
    async def get_customer(stripe: Client, customer_id: str) -> Any:
        return await answer(stripe.customers.retrieve(customer_id))

    add_create("customers")

    # -- subscriptions ---------------------------------------------------------------

    @router.get("/subscriptions", response_model=Envelope[list[Subscription]])
    async def list_subscriptions(
        stripe: Client,
        customer: str | None = None,
        status: str | None = None,
        price: str | None = None,
        limit: Limit = 10,
        starting_after: str | None = None,
    ) -> Any:
        params = present(customer=customer, status=status, price=price, limit=limit, starting_after=starting_after)
        return await answer(stripe.subscriptions.list(**params).first_page(), page_envelope)

    @router.get("/subscriptions/{subscription_id}", response_model=Envelope[Subscription])
    async def get_subscription(stripe: Client, subscription_id: str) -> Any:
        return await answer(stripe.subscriptions.retrieve(subscription_id))

    add_create("subscriptions")

    @router.delete("/subscriptions/{subscription_id}", response_model=Envelope[Subscription])
    async def cancel_subscription(stripe: Client, subscription_id: str) -> Any:
        return await answer(stripe.subscriptions.cancel(subscription_id))

    # -- products --------------------------------------------------------------------

    @router.get("/products", response_model=Envelope[list[Product]])
    async def list_products(
        stripe: Client, active: bool | None = None, limit: Limit = 10, starting_after: str | None = None
    ) -> Any:
        params = present(active=active, limit=limit, starting_after=starting_after)
        return await answer(stripe.products.list(**params).first_page(), page_envelope)

    @router.get("/products/{product_id}", response_model=Envelope[Product])
    async def get_product(stripe: Client, product_id: str) -> Any:
        return await answer(stripe.products.retrieve(product_id))

    add_create("products")

    # -- search, account, balance ----------------------------------------------------

    @router.get("/search", response_model=Envelope[dict[str, SearchGroup]])
    async def search(
        stripe: Client,
        q: Annotated[str, Query(min_length=1, description="Stripe search query, e.g. email:'a@example.com'")],
        resources: Annotated[str, Query(description="Comma-separated: " + ", ".join(SEARCHABLE))] = "customers",
        limit: Limit = 10,
    ) -> Any:
        wanted = [r.strip() for r in resources.split(",") if r.strip()]
        unknown = [r for r in wanted if r not in SEARCHABLE]
        if unknown or not wanted:
            return error_response(StripeValueError("resources", f"choose from {', '.join(SEARCHABLE)}"))
        groups: dict[str, SearchGroup] = {}

        async def one(name: str) -> None:
            namespace = getattr(stripe, name)
            try:
                page = await namespace.search(query=q, limit=limit).first_page()
            except StripeError as exc:
                groups[name] = SearchGroup(error=error_body(exc)[1])
                return
            groups[name] = SearchGroup(
                data=[without_secrets(item.model_dump(mode="json")) for item in page.data], has_more=page.has_more
            )

        async with anyio.create_task_group() as tg:
            for name in wanted:
                tg.start_soon(one, name)
        return {"data": {name: groups[name] for name in wanted}}

    @router.get("/profile", response_model=Envelope[Profile])
    async def profile(stripe: Client) -> Any:
        return await answer(stripe.account.retrieve(), lambda account: _data(profile_of(account)))

    @router.get("/account", response_model=Envelope[Account])
    async def account(stripe: Client) -> Any:
        return await answer(stripe.account.retrieve())

    @router.get("/balance", response_model=Envelope[Balance])
    async def balance(stripe: Client) -> Any:
        return await answer(stripe.balance.retrieve())

    # -- webhooks --------------------------------------------------------------------

    hooks = (
        webhook_router
        if webhook_router is not None
        else (WebhookRouter(webhook_secret) if webhook_secret is not None else None)
    )
    if hooks is not None:
        receiver = hooks

        @router.post("/webhooks", include_in_schema=True, response_model=dict[str, Any])
        async def webhooks(request: Request) -> JSONResponse:
            result = await receiver.handle(await request.body(), request.headers.items())
            return JSONResponse(result.body, status_code=result.status_code)

        router.webhook_router = receiver  # type: ignore[attr-defined]

    return router
