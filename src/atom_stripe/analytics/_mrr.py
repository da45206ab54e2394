"""``mrr`` and ``churn``: monthly recurring revenue by currency, from subscriptions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from .._errors import StripeError
from .._extras import needs_extra
from ._time import When, epoch, span

if TYPE_CHECKING:
    import pandas as pd

    from .._client import AsyncStripeClient
    from ..models import Price, Subscription, SubscriptionItem
    from ..sync import Mirror

#: Statuses that pay today: trialing, incomplete, unpaid, paused and canceled ones do not count.
PAYING = frozenset({"active", "past_due"})
#: Months in one interval: a yearly price is /12, a weekly one x52/12, a daily one x365/12.
MONTHS = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52), "day": Fraction(12, 365)}


@dataclass(frozen=True)
class Recurring:
    """What one subscription brings in a month, with the dates that say when it paid."""

    id: str
    currency: str
    status: str
    monthly: Fraction
    started: int
    ended: int | None
    trial_end: int | None

    def paying(self, at: int | None) -> bool:
        """Paying now (``at`` None: its status says so), or at ``at`` from its dates: started,
        out of trial and not yet ended then (and not an incomplete, unpaid or paused one)."""
        if at is None:
            return self.status in PAYING
        if self.status not in PAYING | {"canceled"}:
            return False
        return (
            self.started <= at
            and (self.ended is None or self.ended > at)
            and (self.trial_end is None or self.trial_end <= at)
        )


def round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def per_month(price: Price, quantity: int | None) -> Fraction:
    """One item's price normalized to a month: ``interval_count``, ``quantity`` and
    ``transform_quantity`` applied; metered (usage-based) prices count 0."""
    recurring = price.recurring
    if recurring is None or recurring.usage_type == "metered":
        return Fraction(0)
    units = Fraction(1 if quantity is None else quantity)
    transform = price.transform_quantity
    if transform is not None:
        units = units / transform.divide_by
        units = Fraction(math.ceil(units) if transform.round == "up" else math.floor(units))
    amount = tiered_amount(price, units) if price.billing_scheme == "tiered" else units * unit_amount(price)
    months = MONTHS.get(recurring.interval)
    if months is None:
        raise StripeError(f"price {price.id} has an unknown interval {recurring.interval!r}")
    return amount / (months * (recurring.interval_count or 1))


def unit_amount(price: Any) -> Fraction:
    """A price's (or tier's) unit amount in minor units, exact even for ``unit_amount_decimal``."""
    if price.unit_amount_decimal is not None:
        return Fraction(price.unit_amount_decimal)
    return Fraction(price.unit_amount or 0)


def tiered_amount(price: Price, units: Fraction) -> Fraction:
    """What ``units`` cost on a tiered price: the one tier they reach (volume), or each tier
    in turn (graduated)."""
    if not price.tiers:
        raise StripeError(f"price {price.id} is tiered but came without its tiers")
    total, below = Fraction(0), 0
    for tier in price.tiers:
        reached = tier.up_to is None or units <= tier.up_to
        flat = Fraction(tier.flat_amount_decimal if tier.flat_amount_decimal is not None else tier.flat_amount or 0)
        if price.tiers_mode == "volume":
            if reached:
                return units * unit_amount(tier) + flat
            continue
        in_tier = (units if reached else Fraction(tier.up_to or 0)) - below
        if in_tier > 0:
            total += in_tier * unit_amount(tier) + flat
        if reached:
            break
        below = tier.up_to or 0
    return total


async def _items(client: AsyncStripeClient, sub: Subscription) -> list[SubscriptionItem]:
    items = sub.items
    if items is None:
        return []
    if items.has_more:  # a subscription embeds its first items only: list them all
        return [item async for item in client.subscription_items.list(subscription=sub.id, limit=100)]
    return list(items.data)


async def _price(client: AsyncStripeClient, price: Price, cache: dict[str, Price]) -> Price:
    """Tiered prices come in a subscription without their tiers: fetch them once per price."""
    if price.billing_scheme != "tiered" or price.tiers:
        return price
    if price.id not in cache:
        cache[price.id] = await client.prices.retrieve(price.id, expand=["tiers"])
    return cache[price.id]


async def recurring(
    source: AsyncStripeClient | Mirror, *, every_status: bool, progress: bool | None = None
) -> list[Recurring]:
    """Each subscription with what it brings in a month (canceled ones too with ``every_status``)."""
    from ._source import mirror_of

    mirror = mirror_of(source)
    if mirror is not None:
        return await _recurring_mirrored(mirror, every_status=every_status)
    client = cast("AsyncStripeClient", source)
    from ._frame import objects

    params: dict[str, Any] = {"limit": 100}
    if every_status:
        params["status"] = "all"
    found: list[Recurring] = []
    prices: dict[str, Price] = {}
    for sub in await objects(client.subscriptions.list(**params), progress=progress):
        items = [item for item in await _items(client, sub) if item.price is not None]
        found.append(_recurring(sub, items, [await _price(client, item.price, prices) for item in items]))
    return found


async def _recurring_mirrored(mirror: Mirror, *, every_status: bool) -> list[Recurring]:
    """:func:`recurring` from a mirror's tables: subscriptions, their items, tiered prices' tiers."""
    from ..models import Price, Subscription, SubscriptionItem

    found: list[Recurring] = []
    prices = {data["id"]: data for data in await mirror.objects("price")}
    for data in await mirror.objects("subscription"):
        sub = Subscription.model_validate(data)
        # What subscriptions.list answers: without status=all, canceled ones are left out.
        if not every_status and sub.status == "canceled":
            continue
        if sub.items is not None and sub.items.has_more:
            held = [
                SubscriptionItem.model_validate(item)
                for item in await mirror.objects("subscription_item", parent=sub.id)
            ]
        else:
            held = list(sub.items.data) if sub.items is not None else []
        items = [item for item in held if item.price is not None]
        used = []
        for item in items:
            price = item.price
            if price.billing_scheme == "tiered" and not price.tiers and price.id in prices:
                price = Price.model_validate(prices[price.id])
            used.append(price)
        found.append(_recurring(sub, items, used))
    found.sort(key=lambda s: s.id)
    return found


def _recurring(sub: Subscription, items: list[SubscriptionItem], prices: list[Price]) -> Recurring:
    monthly = Fraction(0)
    for item, price in zip(items, prices, strict=True):
        monthly += per_month(price, item.quantity)
    currency = sub.currency or (items[0].price.currency if items else "")
    ended = sub.ended_at if sub.ended_at is not None else sub.canceled_at if sub.status == "canceled" else None
    started = sub.start_date or sub.created or 0
    return Recurring(sub.id, currency, sub.status, monthly, started, ended, sub.trial_end)


def _by_currency(subs: list[Recurring]) -> dict[str, list[Recurring]]:
    groups: dict[str, list[Recurring]] = {}
    for sub in sorted(subs, key=lambda s: s.currency):
        groups.setdefault(sub.currency, []).append(sub)
    return groups


def mrr_table(subs: list[Recurring], at: int | None) -> pd.DataFrame:
    """MRR and paying subscriptions per currency at one time (None: now, by status)."""
    with needs_extra("analytics"):
        import pandas as pd

    paying = _by_currency([s for s in subs if s.paying(at)])
    frame: pd.DataFrame = pd.DataFrame(
        {
            "mrr": [round_half_up(sum((s.monthly for s in g), Fraction(0))) for g in paying.values()],
            "subscriptions": [len(g) for g in paying.values()],
        },
        index=pd.Index(list(paying), name="currency", dtype=object),
        dtype="int64",
    )
    return frame


async def mrr(
    client: AsyncStripeClient | Mirror, at: When | Sequence[When] | None = None, *, progress: bool | None = None
) -> pd.DataFrame:
    """Monthly recurring revenue by currency: columns ``mrr`` (integer minor units) and
    ``subscriptions`` (how many pay).

    With ``at`` None it counts subscriptions that are ``active`` or ``past_due`` now
    (trialing, canceled, incomplete, unpaid and paused ones do not). Each item's price is
    normalized to a month (yearly / 12, weekly x 52 / 12, daily x 365 / 12, divided by
    ``interval_count``), times its ``quantity`` (after ``transform_quantity``); metered prices
    count 0; tiered prices are priced with their tiers. List prices, before discounts and tax.
    The sum per currency is rounded half up once, to whole minor units.

    With ``at`` a time (or a list of times, giving an index of (``at``, ``currency``)), it
    estimates MRR then from every subscription's dates: started, out of trial and not ended
    at that time, priced at today's items; every currency appears at every time (0 before its
    first subscription).

    ``client`` may be a :class:`~atom_stripe.sync.Mirror`: the same frame, from its tables.
    """
    with needs_extra("analytics"):
        import pandas as pd

    if at is None or isinstance(at, str) or not isinstance(at, Sequence):
        moment = None if at is None else epoch(at, "at")
        subs = await recurring(client, every_status=moment is not None, progress=progress)
        return mrr_table(subs, moment)
    moments = sorted({epoch(a, "at") for a in at})  # in time order, as a plot or a diff expects
    subs = await recurring(client, every_status=True, progress=progress)
    tables = {pd.Timestamp(m, unit="s", tz="UTC"): mrr_table(subs, m) for m in moments}
    if not tables:
        return mrr_table([], None)
    history = pd.concat(tables, names=["at", "currency"])
    # Every currency at every time: 0 where none of its subscriptions paid yet (or any more).
    currencies = sorted(set(history.index.get_level_values("currency")))
    grid = pd.MultiIndex.from_product([list(tables), currencies], names=["at", "currency"])
    full: pd.DataFrame = history.reindex(grid, fill_value=0).astype("int64")
    return full


def churn_table(subs: list[Recurring], first: int, last: int) -> pd.DataFrame:
    """Per currency: subscriptions paying at ``first``, and those of them that ended before ``last``."""
    with needs_extra("analytics"):
        import pandas as pd

    base = _by_currency([s for s in subs if s.paying(first)])
    rows = []
    for group in base.values():
        lost = [s for s in group if s.ended is not None and first <= s.ended < last]
        total = sum((s.monthly for s in group), Fraction(0))
        gone = sum((s.monthly for s in lost), Fraction(0))
        rows.append(
            {
                "subscriptions": len(group),
                "churned": len(lost),
                "churn_rate": len(lost) / len(group),
                "mrr": round_half_up(total),
                "churned_mrr": round_half_up(gone),
                "mrr_churn_rate": float(gone / total) if total else float("nan"),
            }
        )
    columns = ["subscriptions", "churned", "churn_rate", "mrr", "churned_mrr", "mrr_churn_rate"]
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index(list(base), name="currency", dtype=object))
    typed: pd.DataFrame = frame.astype({c: "int64" for c in columns if "rate" not in c})
    return typed


async def churn(
    client: AsyncStripeClient | Mirror, *, start: When, end: When | None = None, progress: bool | None = None
) -> pd.DataFrame:
    """Churn over ``[start, end)`` by currency: of the subscriptions paying at ``start``
    (``subscriptions``, their ``mrr``), how many ended by cancellation before ``end``
    (``churned``, ``churned_mrr``) and the rates (``churn_rate``, ``mrr_churn_rate``, 0 to 1).
    Subscriptions that start in the period are not in its base, so they do not churn in it."""
    first, last = span(start, end)
    subs = await recurring(client, every_status=True, progress=progress)
    return churn_table(subs, first, last)
