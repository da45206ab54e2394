"""The fake as a Connect platform: which account a request acts on, and connected accounts
(``/v1/accounts``, account links, login links, onboarding).

Every object belongs to one account: the platform's own (``fake.platform_account``) or a connected
account's, each with a :class:`Store` of its own (``fake.stores``). A request acts on the platform,
or on the connected account its ``Stripe-Account`` header (or its OAuth access token) names
(https://docs.stripe.com/connect/authentication), and sees nothing else. Connected accounts'
``account`` objects are the platform's (it lists them)."""

from __future__ import annotations

import base64
import binascii
import copy
from typing import TYPE_CHECKING, Any

from ._engine import Ctx, behaviour, owner_of, retrieve
from ._store import Store, load_fixtures, new_id
from ._wire import FakeError, invalid, missing, required

if TYPE_CHECKING:
    from ._fake import FakeStripe

#: The platform's own account id: stable, so tests and snapshots can name it.
PLATFORM_ACCOUNT = "acct_1AtomStripeFakePlatform"
#: The platform's Connect client id (``ca_...``), the one ``/oauth/authorize`` takes.
PLATFORM_CLIENT_ID = "ca_1AtomStripeFakePlatform"


def mask_key(key: str) -> str:
    """An API key as Stripe shows it in an error: its mode and last four characters."""
    return f"{'_'.join(key.split('_')[:2])}_****{key[-4:]}" if key.count("_") >= 2 else f"****{key[-4:]}"


def key_of(authorization: str) -> str:
    """The API key an ``Authorization`` header carries: ``Bearer <key>``, or HTTP Basic with the
    key as the user name and no password, as Stripe takes both ("Provide your API key as the
    basic auth username value": https://docs.stripe.com/api/authentication); a bare key as it is."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if not credentials:
        return scheme
    if scheme == "Basic":
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, ValueError):
            return ""
    return credentials.strip() if scheme == "Bearer" else ""


def safe_url(url: object) -> bool:
    """Whether a URL given to send a user back to (``redirect_uri``, ``return_url``) is an
    http(s) URL the fake may put in a ``Location`` header: printable ASCII, no whitespace (a CR
    or LF would let it write headers of its own)."""
    return (
        isinstance(url, str)
        and url.startswith(("http://", "https://"))
        and url.isascii()
        and url.isprintable()
        and not any(ch.isspace() for ch in url)
    )


def acting_account(fake: FakeStripe, key: str, header: str | None, method: str = "GET") -> str:
    """The account a request acts on: its OAuth access token's, else ``Stripe-Account``'s, else
    the platform's. A ``Stripe-Account`` naming an account the key cannot reach (unknown, not
    connected, another token's) is Stripe's 403 ``account_invalid``
    (https://docs.stripe.com/error-codes#account-invalid); a revoked access token, Stripe's 401
    ``api_key_expired`` (https://docs.stripe.com/error-codes#api-key-expired). A ``read_only``
    connection (its token, or ``Stripe-Account`` on it) only reads."""
    grants = fake.oauth
    if key in grants.revoked:
        raise FakeError(
            401,
            f"Expired API Key provided: {mask_key(key)}. Application access may have been revoked.",
            type="invalid_request_error",
            code="api_key_expired",
        )
    token_account = grants.access_tokens.get(key)
    if not header:
        account = token_account or fake.platform_account
        _check_scope(fake, key, account, method)
        return account
    reachable = header == token_account if token_account else header == fake.platform_account or connected(fake, header)
    if not reachable:
        raise FakeError(
            403,
            f"The provided key '{mask_key(key)}' does not have access to account '{header}' (or that account "
            "does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    _check_scope(fake, key, header, method)
    return header


def _check_scope(fake: FakeStripe, key: str, account: str, method: str) -> None:
    """A ``read_only`` OAuth connection reads only: a write is Stripe's 403 naming the scope
    that would allow it (https://docs.stripe.com/connect/oauth-reference#get-authorize-request)."""
    grants = fake.oauth
    scope = grants.token_scopes.get(key) if key in grants.access_tokens else grants.scopes.get(account)
    if scope == "read_only" and method != "GET":
        raise FakeError(
            403,
            f"This application does not have the required permissions for this endpoint on account '{account}'. "
            "Having the 'read_write' scope would allow this request to continue.",
        )


def connected(fake: FakeStripe, account: str) -> bool:
    """Whether ``account`` is connected to the platform now (made by it, or connected over OAuth
    and not deauthorized)."""
    return account in fake.stores and account != fake.platform_account and account not in fake.oauth.disconnected


class OAuthGrants:
    """What Connect OAuth handed out (https://docs.stripe.com/connect/oauth-reference): codes
    (single use), access tokens (an API key for one account), refresh tokens, and the revoked."""

    def __init__(self) -> None:
        #: code -> {"account", "scope", "used", "tokens": [access tokens issued with it]}
        self.codes: dict[str, dict[str, Any]] = {}
        #: access token (``sk_test_...``) -> the account it acts on
        self.access_tokens: dict[str, str] = {}
        #: refresh token (``rt_...``) -> {"account", "scope", "code": the code it was issued with}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        #: access tokens that no longer work (deauthorized, or issued with a reused code)
        self.revoked: set[str] = set()
        #: accounts that deauthorized the platform: their objects kept, unreachable until reconnected
        self.disconnected: set[str] = set()
        #: account links: secret -> {"account", "return_url", "refresh_url", "used"}
        self.links: dict[str, dict[str, Any]] = {}
        #: access token -> its scope; connected account -> the scope of its OAuth connection
        self.token_scopes: dict[str, str] = {}
        self.scopes: dict[str, str] = {}

    def issue(self, account: str, scope: str, code: str, *, refresh: bool) -> dict[str, Any]:
        """New tokens for an account: Connect's ``/oauth/token`` answer (a refresh token only
        with a code's). Each is counted as issued with ``code`` (directly, or through its refresh
        token): a reuse of the code revokes them all."""
        access = new_id("sk_test")
        self.access_tokens[access] = account
        self.token_scopes[access] = scope
        answer: dict[str, Any] = {
            "access_token": access,
            "livemode": False,
            "scope": scope,
            "stripe_publishable_key": new_id("pk_test"),
            "stripe_user_id": account,
            "token_type": "bearer",
        }
        if refresh:
            answer["refresh_token"] = token = new_id("rt")
            self.refresh_tokens[token] = {"account": account, "scope": scope, "code": code}
        self.codes[code]["tokens"].extend(v for k, v in answer.items() if k in ("access_token", "refresh_token"))
        return answer

    def revoke(self, token: str) -> None:
        """An access or refresh token stops working."""
        self.refresh_tokens.pop(token, None)
        if self.access_tokens.pop(token, None) is not None:
            self.token_scopes.pop(token, None)
            self.revoked.add(token)

    def revoke_account(self, account: str) -> None:
        """Every access and refresh token of an account stops working (deauthorized, deleted)."""
        for token in [t for t, owner in self.access_tokens.items() if owner == account]:
            self.revoke(token)
        for token in [t for t, held in self.refresh_tokens.items() if held["account"] == account]:
            self.revoke(token)
        self.scopes.pop(account, None)

    def state(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "access_tokens": self.access_tokens,
            "refresh_tokens": self.refresh_tokens,
            "revoked": sorted(self.revoked),
            "disconnected": sorted(self.disconnected),
            "links": self.links,
            "token_scopes": self.token_scopes,
            "scopes": self.scopes,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.codes, self.access_tokens, self.refresh_tokens = (
            state["codes"],
            state["access_tokens"],
            state["refresh_tokens"],
        )
        self.revoked, self.disconnected = set(state["revoked"]), set(state["disconnected"])
        self.links, self.token_scopes, self.scopes = state["links"], state["token_scopes"], state["scopes"]


# -- connected accounts --------------------------------------------------------------------------

#: What each account type means in controller properties
#: (https://docs.stripe.com/connect/migrate-to-controller-properties).
CONTROLLERS: dict[str, dict[str, Any]] = {
    "standard": {
        "fees": {"payer": "account"},
        "losses": {"payments": "stripe"},
        "requirement_collection": "stripe",
        "stripe_dashboard": {"type": "full"},
    },
    "express": {
        "fees": {"payer": "application_express"},
        "losses": {"payments": "application"},
        "requirement_collection": "stripe",
        "stripe_dashboard": {"type": "express"},
    },
    "custom": {
        "fees": {"payer": "application_custom"},
        "losses": {"payments": "application"},
        "requirement_collection": "application",
        "stripe_dashboard": {"type": "none"},
    },
}

#: What a new test-mode account still has to give before it may take charges and be paid out
#: (Stripe's example account object, https://docs.stripe.com/api/accounts/object#account_object-requirements).
NEW_REQUIREMENTS = [
    "business_profile.product_description",
    "business_profile.support_phone",
    "business_profile.url",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
#: Capabilities a Standard account has without asking (https://docs.stripe.com/connect/account-capabilities).
STANDARD_CAPABILITIES = ("card_payments", "transfers")


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _controller(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The account's ``type`` and ``controller`` from ``type`` or ``controller`` (one of them:
    Stripe takes either, https://docs.stripe.com/api/accounts/create#create_account-controller)."""
    kind, given = params.pop("type", None), params.pop("controller", None)
    if kind is not None and given is not None:
        raise invalid("controller", "You cannot provide both `type` and `controller` when creating an account.")
    if kind is not None and kind not in CONTROLLERS:
        raise invalid("type", f"Invalid type: must be one of custom, express or standard, not {kind!r}.")
    if given is None:
        kind = kind or "standard"
        return kind, {"is_controller": True, "type": "application", **copy.deepcopy(CONTROLLERS[kind])}
    controller: dict[str, Any] = copy.deepcopy(CONTROLLERS["standard"])
    for key, value in given.items():
        controller[key] = {**controller[key], **value} if isinstance(value, dict) else value
    match = next((k for k, v in CONTROLLERS.items() if v == controller), "none")
    return match, {"is_controller": True, "type": "application", **controller}


def _platform_only(ctx: Ctx) -> None:
    if not ctx.platform:
        raise FakeError(
            403,
            "Only Stripe Connect platforms can work with other accounts.",
            type="invalid_request_error",
            code="account_invalid",
        )


def open_account(fake: FakeStripe, account: str) -> None:
    """Give a connected account its own objects (an empty store), once; connect it again."""
    fake.stores.setdefault(account, Store(load_fixtures()))
    fake.oauth.disconnected.discard(account)


def account_object(ctx: Ctx, account_id: str, param: str = "id") -> dict[str, Any]:
    """A connected account's ``account`` object, as the acting account may see it: the platform
    sees its connected accounts, a connected account itself only (404 ``resource_missing``
    otherwise, never a leak); the platform's own for its own id."""
    if account_id == ctx.fake.platform_account and ctx.platform:
        return platform_object(ctx.fake)
    if not ctx.platform and account_id != ctx.account:
        raise missing("account", account_id, param, 404 if param == "id" else 400)
    found = ctx.fake.store.find(account_id, "account")
    if found is None or not connected(ctx.fake, account_id):
        raise missing("account", account_id, param, 404 if param == "id" else 400)
    return found


def platform_object(fake: FakeStripe) -> dict[str, Any]:
    """The platform's own account (``GET /v1/account`` without ``Stripe-Account``): onboarded."""
    store = fake.store
    found = store.singletons.get("fake:platform_account")
    if found is None:
        found = store.template("account", fake.now(), fake.platform_account)
        found.update(
            type="standard",
            controller={"type": "account"},
            email=None,
            country="US",
            default_currency="usd",
            details_submitted=True,
        )
        _onboarded(found, fake.now())
        store.singletons["fake:platform_account"] = found
    return found


def _onboarded(account: dict[str, Any], now: int) -> None:
    account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
    account["requirements"] = _requirements([])
    account["future_requirements"] = _requirements([])
    account["capabilities"] = {name: "active" for name in account.get("capabilities") or STANDARD_CAPABILITIES}
    account["tos_acceptance"] = {**(account.get("tos_acceptance") or {}), "date": now, "ip": "127.0.0.1"}


@behaviour("accounts.create")
def create_account(ctx: Ctx) -> dict[str, Any]:
    """A connected account, as a new test-mode one is: not onboarded (charges and payouts off,
    requirements due, requested capabilities ``inactive``), with an empty store of its own."""
    _platform_only(ctx)
    params = dict(ctx.params)
    kind, controller = _controller(params)
    requested = params.pop("capabilities", None) or {}
    capabilities = {name: "inactive" for name, ask in requested.items() if (ask or {}).get("requested")}
    if kind == "standard":
        capabilities = {**dict.fromkeys(STANDARD_CAPABILITIES, "inactive"), **capabilities}
    params.setdefault("country", "US")
    account = ctx.create(
        "account",
        params,
        event=None,  # Stripe has no ``account.created`` event
        type=kind,
        controller=controller,
        capabilities=capabilities,
        charges_enabled=False,
        payouts_enabled=False,
        details_submitted=False,
        requirements=_requirements(NEW_REQUIREMENTS),
        future_requirements=_requirements([]),
        default_currency=params.get("default_currency") or "usd",
        tos_acceptance={"date": None, "ip": None, "user_agent": None},
    )
    account["external_accounts"] = {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/accounts/{account['id']}/external_accounts",
    }
    open_account(ctx.fake, account["id"])
    return account


@behaviour("accounts.retrieve", "accounts.retrieve_current", "account.retrieve")
def retrieve_account(ctx: Ctx) -> dict[str, Any]:
    """``/v1/account``: the acting account; ``/v1/accounts/{id}``: a connected account."""
    return account_object(ctx, ctx.last_id if ctx.endpoint.ids else str(ctx.account))


@behaviour("accounts.update")
def update_account(ctx: Ctx) -> dict[str, Any]:
    """Updates a connected account; its ``account.updated`` event is the account's own (a Connect
    event: https://docs.stripe.com/connect/webhooks)."""
    account = account_object(ctx, ctx.last_id)
    params = dict(ctx.params)
    asked = params.pop("capabilities", None) or {}
    held = dict(account.get("capabilities") or {})
    for name, ask in asked.items():
        # Requested: ``inactive`` until onboarding gives what it needs (an active one stays);
        # ``requested: false`` removes it (https://docs.stripe.com/connect/account-capabilities).
        if (ask or {}).get("requested") is True:
            held.setdefault(name, "inactive")
        elif (ask or {}).get("requested") is False:
            held.pop(name, None)
    fields: dict[str, Any] = {"capabilities": held} if asked else {}
    owner = ctx if account["id"] == ctx.fake.platform_account else ctx.on(account["id"])
    return owner.update(account, params, **fields)


@behaviour("accounts.delete")
def delete_account(ctx: Ctx) -> dict[str, Any]:
    """Deletes a connected account and everything it holds (test-mode accounts may be deleted at
    any time: https://docs.stripe.com/api/accounts/delete)."""
    _platform_only(ctx)
    account = account_object(ctx, ctx.last_id)
    if account["id"] == ctx.fake.platform_account:
        raise invalid("account", "You cannot delete your own account with the API.")
    ctx.store.remove("account", account["id"])
    del ctx.fake.stores[account["id"]]
    # Its OAuth tokens die with it: used again, Stripe's 401 ``api_key_expired``.
    ctx.fake.oauth.revoke_account(account["id"])
    return {"id": account["id"], "object": "account", "deleted": True}


@behaviour("accounts.list")
def list_accounts(ctx: Ctx) -> dict[str, Any]:
    """The platform's connected accounts, newest first."""
    _platform_only(ctx)
    items = [a for a in ctx.store.all("account") if connected(ctx.fake, a["id"])]
    return ctx.store.page(items, ctx.params, "/v1/accounts")


def complete_onboarding(ctx: Ctx, account_id: str) -> dict[str, Any]:
    """What a user finishing onboarding does: capabilities active, nothing due, charges and
    payouts on; an ``account.updated`` event on the account."""
    account = account_object(ctx, account_id, "account")
    owner = ctx.on(account_id)
    before = copy.deepcopy(account)
    _onboarded(account, owner.now())
    previous = {k: v for k, v in before.items() if account.get(k) != v}
    if previous:
        owner.emit("account.updated", account, previous)
    return account


# -- links -------------------------------------------------------------------------------------------


def _link_url(ctx: Ctx, path: str) -> str:
    """A link on the served fake's own host (where following it plays the user), or on Stripe's
    Connect host in process."""
    base = ctx.fake.base_url or "https://connect.stripe.com"
    return f"{base}{path}"


@behaviour("account_links.create")
def create_account_link(ctx: Ctx) -> dict[str, Any]:
    """A single-use link, valid five minutes, that takes the user to onboarding (or to update
    their details) and back to ``return_url`` (https://docs.stripe.com/api/account_links/create)."""
    _platform_only(ctx)
    account_id = required(ctx.params, "account")
    kind = required(ctx.params, "type")
    account_object(ctx, account_id, "account")
    for param in ("return_url", "refresh_url"):
        if param in ctx.params and not safe_url(ctx.params[param]):
            raise invalid(param, "Not a valid URL")
    secret = new_id("x")[2:]
    ctx.fake.oauth.links[secret] = {
        "account": account_id,
        "return_url": ctx.params.get("return_url"),
        "refresh_url": ctx.params.get("refresh_url"),
    }
    now = ctx.now()
    return {
        "object": "account_link",
        "created": now,
        "expires_at": now + 300,
        "url": _link_url(ctx, f"/setup/{'e' if kind == 'account_update' else 's'}/{account_id}/{secret}"),
    }


@behaviour("accounts.login_links.create")
def create_login_link(ctx: Ctx) -> dict[str, Any]:
    """A link to the Express Dashboard of an account that has one
    (https://docs.stripe.com/api/accounts/login_link/create)."""
    _platform_only(ctx)
    account = account_object(ctx, ctx.last_id, "account")
    if (account.get("controller") or {}).get("stripe_dashboard", {}).get("type") != "express":
        raise invalid("account", "Login links can only be created for accounts that use the Express Dashboard.")
    return {
        "object": "login_link",
        "created": ctx.now(),
        "url": _link_url(ctx, f"/express/{account['id']}/{new_id('x')[2:]}"),
    }


# -- OAuth connections -------------------------------------------------------------------------------


def oauth_code(
    fake: FakeStripe, account: str | None, scope: str, *, email: str | None = None, kind: str = "standard"
) -> str:
    """A code (``ac_...``) as ``/oauth/authorize`` redirects with: for an existing account (made
    or connected before), or for a new, onboarded one (the user's own Stripe account) made
    when the code is exchanged."""
    fresh: dict[str, Any] | None = None
    if account is None:
        now = fake.now()
        fresh = fake.store.template("account", now)
        fresh.update(
            type=kind,
            controller={"type": "account"} if kind == "standard" else {"type": "application", **CONTROLLERS[kind]},
            email=email,
            country="US",
            default_currency="usd",
            capabilities=dict.fromkeys(STANDARD_CAPABILITIES, "active"),
        )
        _onboarded(fresh, now)
        account = str(fresh["id"])
    code = new_id("ac")
    fake.oauth.codes[code] = {"account": account, "scope": scope, "used": False, "tokens": [], "new": fresh}
    return code


def _application(fake: FakeStripe) -> dict[str, Any]:
    """The platform as Connect events name it (``data.object`` of ``account.application.*``)."""
    return {"id": fake.client_id, "object": "application", "name": "atom_stripe fake platform"}


def connect_over_oauth(fake: FakeStripe, code: dict[str, Any]) -> None:
    """A code exchanged: its account is connected (made, for a new one) with the code's scope,
    and ``account.application.authorized`` goes to Connect webhooks
    (https://docs.stripe.com/api/events/types#event_types-account.application.authorized)."""
    account = code["account"]
    if code["new"] is not None and fake.store.find(account, "account") is None:
        fake.store.put(copy.deepcopy(code["new"]))
    was_connected = connected(fake, account)
    open_account(fake, account)
    fake.oauth.scopes[account] = code["scope"]
    if not was_connected or code["new"] is not None:
        fake.emit("account.application.authorized", _application(fake), None, None, None, account=account)


def disconnect(fake: FakeStripe, account: str) -> None:
    """An account deauthorized: its access and refresh tokens stop working, the platform no
    longer reaches it, and ``account.application.deauthorized`` goes to Connect webhooks."""
    fake.oauth.revoke_account(account)
    fake.emit("account.application.deauthorized", _application(fake), None, None, None, account=account)
    fake.oauth.disconnected.add(account)


# -- capabilities --------------------------------------------------------------------------------------


def _capability(ctx: Ctx, account: dict[str, Any], name: str) -> dict[str, Any]:
    """One capability of an account as Stripe shows it (https://docs.stripe.com/api/capabilities/object):
    its status from the account's ``capabilities``; what is still due, the account's, until active."""
    status = (account.get("capabilities") or {}).get(name)
    requirements = account.get("requirements") if status not in (None, "active") else None
    capability = ctx.store.template("capability", ctx.now(), name)
    capability.update(
        account=account["id"],
        requested=status is not None,
        requested_at=account.get("created") if status is not None else None,
        status=status or "unrequested",
        requirements=copy.deepcopy(requirements) if requirements else _requirements([]),
        future_requirements=_requirements([]),
    )
    return capability


@behaviour("accounts.capabilities.list", "accounts.capabilities.retrieve", "accounts.capabilities.update")
def capabilities(ctx: Ctx) -> dict[str, Any]:
    """An account's capabilities, each as a ``capability`` object: the ones requested listed, any
    retrieved (one not requested is ``unrequested``, a status Stripe's capability object has:
    https://docs.stripe.com/api/capabilities/object#capability_object-status), and ``requested``
    true or false to ask for one or give it up, as ``accounts.update`` does."""
    account = account_object(ctx, ctx.ids["account"])
    held = account.get("capabilities") or {}
    if ctx.endpoint.kind == "list":
        items = [_capability(ctx, account, name) for name in held]
        url = f"/v1/accounts/{account['id']}/capabilities"
        return {"object": "list", "data": items, "has_more": False, "url": url}
    name = ctx.ids["capability"]
    if ctx.endpoint.method == "GET":
        return _capability(ctx, account, name)
    before = _capability(ctx, account, name)
    requested = ctx.params.get("requested")
    if requested is True:
        held = {**held, name: held.get(name, "inactive")}
    elif requested is False:
        held = {k: v for k, v in held.items() if k != name}
    owner = ctx if account["id"] == ctx.fake.platform_account else ctx.on(account["id"])
    owner.update(account, {}, capabilities=held)
    after = _capability(ctx, account, name)
    previous = {k: v for k, v in before.items() if after.get(k) != v}
    if previous:
        owner.emit("capability.updated", after, previous)
    return after


# -- external accounts ---------------------------------------------------------------------------------


def _external_account(ctx: Ctx, account: dict[str, Any], given: Any) -> dict[str, Any]:
    """The bank account or debit card a payout goes to, from a token (``tok_...``: a Visa debit
    card, as external accounts are debit cards; any other, such as ``btok_us``: Stripe's test
    bank account) or the bank details themselves (https://docs.stripe.com/api/external_account_bank_accounts/create)."""
    details = given if isinstance(given, dict) else {}
    token = given if isinstance(given, str) else None
    if (token or "").startswith("tok_") or details.get("object") == "card":
        card = ctx.store.template("card", ctx.now())
        card.update(brand="Visa", funding="debit", last4="5556", exp_month=12, exp_year=2034, country="US")
        card.update(account=account["id"], currency=details.get("currency") or account.get("default_currency"))
        return card
    bank = ctx.store.template("bank_account", ctx.now())
    number = str(details.get("account_number") or "000123456789")
    bank.update(
        account=account["id"],
        bank_name="STRIPE TEST BANK",
        country=details.get("country") or "US",
        currency=details.get("currency") or account.get("default_currency") or "usd",
        last4=number[-4:],
        routing_number=details.get("routing_number") or "110000000",
        account_holder_name=details.get("account_holder_name"),
        account_holder_type=details.get("account_holder_type"),
        status="new",
    )
    return bank


@behaviour("accounts.external_accounts.create")
def create_external_account(ctx: Ctx) -> dict[str, Any]:
    """A bank account or debit card for the account's payouts, listed on the account (its
    ``external_accounts``); the first of a currency is its default; an
    ``account.external_account.created`` event, the account's."""
    ctx = owner_of(ctx)
    account = account_object(ctx, ctx.ids["account"])
    made = _external_account(ctx, account, required(ctx.params, "external_account"))
    held = account["external_accounts"]["data"] if isinstance(account.get("external_accounts"), dict) else []
    first = not any(e.get("currency") == made["currency"] for e in held)
    made.update(metadata=dict(ctx.params.get("metadata") or {}))
    made["default_for_currency"] = bool(ctx.params.get("default_for_currency")) or first
    ctx.store.put(made, account["id"])
    if isinstance(account.get("external_accounts"), dict):
        held.append(made)
    ctx.emit("account.external_account.created", made)
    return made


@behaviour("accounts.external_accounts.delete")
def delete_external_account(ctx: Ctx) -> dict[str, Any]:
    """Deletes one, off the account's list too (its event ``account.external_account.deleted``,
    the account's); the default for its currency is refused, as Stripe refuses it
    (https://docs.stripe.com/api/external_account_bank_accounts/delete)."""
    ctx = owner_of(ctx)
    account = account_object(ctx, ctx.ids["account"])
    found = retrieve(ctx)
    if found.get("default_for_currency"):
        raise invalid(
            "id",
            "You cannot delete the default external account for your default currency. Please make another "
            "external account the default using the `default_for_currency` param, and then delete this one.",
        )
    ctx.store.remove(found["object"], found["id"])
    if isinstance(account.get("external_accounts"), dict):
        listed = account["external_accounts"]["data"]
        listed[:] = [e for e in listed if e["id"] != found["id"]]
    ctx.emit("account.external_account.deleted", found)
    return {"id": found["id"], "object": found["object"], "deleted": True}
