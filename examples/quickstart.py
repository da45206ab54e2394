"""A realistic ATOM flow through atom_stripe's public API.

A product and a customer, a PaymentIntent confirmed with a test card, a partial refund, a card
attached to the customer and a monthly subscription billed by its first invoice, a declined
card handled as ``CardError``, auto-pagination over the customers, the events
Stripe recorded, and a webhook delivered and verified. Prints a summary table.

Run it with ``bash scripts/demo.sh`` (it starts localstripe on 127.0.0.1 for you), or
against Stripe's test mode with ``STRIPE_API_KEY=sk_test_... python examples/quickstart.py``.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import anyio
from aiohttp import web

from atom_stripe import AsyncStripeClient, CardError
from atom_stripe.models import CustomerEvent
from atom_stripe.money import format_amount
from atom_stripe.webhooks import WebhookRouter, construct_event, generate_test_header

WEBHOOK_SECRET = "whsec_atom_quickstart"


async def start_receiver(router: WebhookRouter) -> tuple[web.AppRunner, str]:
    """A webhook receiver on 127.0.0.1: aiohttp's server handing each delivery to the router."""

    async def deliver(request: web.Request) -> web.Response:
        result = await router.handle(await request.read(), request.headers.items())
        return web.json_response(result.body, status=result.status_code)

    app = web.Application()
    app.router.add_post("/webhooks", deliver)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/webhooks"


async def main() -> None:
    base_url = os.environ.get("STRIPE_BASE_URL")  # set by scripts/demo.sh; unset means Stripe itself
    local = base_url is not None
    tag = uuid.uuid4().hex[:6]
    rows: list[tuple[str, str]] = []

    router = WebhookRouter(WEBHOOK_SECRET)
    delivered: list[CustomerEvent] = []

    @router.on("customer.created")
    async def customer_created(event: CustomerEvent) -> None:
        delivered.append(event)

    runner = None
    async with AsyncStripeClient(base_url=base_url) as stripe:
        if local:
            runner, hook_url = await start_receiver(router)
            # localstripe's own endpoint for registering a webhook (Stripe uses the Dashboard).
            await stripe.http_client.post(
                f"{base_url}/_config/webhooks/quickstart",
                data={"url": hook_url, "secret": WEBHOOK_SECRET, "events[0]": "customer.created"},
            )
        try:
            product = await stripe.products.create(name=f"ATOM Pro {tag}", description="Monthly plan")
            rows.append(("product", f"{product.id} {product.name}"))

            customer = await stripe.customers.create(
                email=f"jenny-{tag}@example.com", name="Jenny Rosen", metadata={"atom_user": f"u-{tag}"}
            )
            rows.append(("customer", f"{customer.id} {customer.email}"))

            intent = await stripe.payments.create(
                amount=2000,
                currency="usd",
                customer=customer.id,
                payment_method="pm_card_visa",
                confirm=True,
                metadata={"product": product.id},
            )
            amount = format_amount(intent.amount, intent.currency)
            rows.append(("payment (pm_card_visa)", f"{intent.id} {amount} {intent.status}"))

            refund = await stripe.refunds.create(payment_intent=intent.id, amount=500)
            rows.append(
                ("partial refund", f"{refund.id} {format_amount(refund.amount, refund.currency)} {refund.status}")
            )

            # A subscription business: attach a card, make it the default, subscribe, read the invoice.
            if local:  # localstripe takes test card numbers; Stripe's test mode takes test tokens
                card: Any = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
            else:
                card = {"token": "tok_visa"}
            pm = await stripe.payment_methods.create(type="card", card=card)
            await stripe.payment_methods.attach(pm.id, customer=customer.id)
            await stripe.customers.update(customer.id, invoice_settings={"default_payment_method": pm.id})
            plan = await stripe.plans.create(amount=1500, currency="usd", interval="month", product=product.id)
            subscription = await stripe.subscriptions.create(customer=customer.id, items=[{"plan": plan.id}])
            rows.append(("card attached, subscribed", f"{pm.id} -> {subscription.id} {subscription.status}"))
            invoices = await stripe.invoices.list(subscription=subscription.id, limit=1)
            invoice = invoices.data[0]
            paid = format_amount(invoice.amount_paid or 0, invoice.currency or "usd")
            rows.append(("first invoice", f"{invoice.id} {paid} {invoice.status}"))

            try:
                await stripe.payments.create(
                    amount=1500, currency="usd", payment_method="pm_card_chargeCustomerFail", confirm=True
                )
                rows.append(("declined card", "not declined?"))
            except CardError as exc:
                rows.append(("declined card", f"CardError {exc.status_code} {exc.code} ({exc.message})"))

            for i in range(4):
                await stripe.customers.create(email=f"team-{tag}-{i}@example.com")
            count = 0
            async for _ in stripe.customers.list(limit=2):
                count += 1
            rows.append(("customers, auto-paginated 2 a page", str(count)))

            events = await stripe.events.list(limit=10)
            kinds = sorted({event.type for event in events.data})
            rows.append(("events recorded (latest 10)", ", ".join(kinds)))

            if local:
                with anyio.fail_after(15):
                    while not any(e.data.object.id == customer.id for e in delivered):
                        await anyio.sleep(0.1)
                event = next(e for e in delivered if e.data.object.id == customer.id)
                rows.append(("webhook delivered + verified", f"{event.id} {event.type} -> {event.data.object.id}"))
            else:
                # Stripe cannot reach this machine: verify a locally signed copy of a real event.
                latest: Any = events.data[0]
                body = latest.model_dump_json(by_alias=True)
                verified = construct_event(body, generate_test_header(body, WEBHOOK_SECRET), WEBHOOK_SECRET)
                rows.append(("webhook signature verified", f"{verified.id} {verified.type}"))

            health = await stripe.health()
            rows.append(("health", f"ok={health.ok} {health.latency_ms:.0f} ms"))
            stats = stripe.stats()
            rows.append(("calls made", f"{stats.calls} ({stats.errors} failed, {stats.retries} retried)"))
        finally:
            if runner is not None:
                await runner.cleanup()

    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 2) + "+" + "-" * 62
    print(line)
    for key, value in rows:
        print(f" {key:<{width}} | {value}")
    print(line)


if __name__ == "__main__":
    anyio.run(main)
