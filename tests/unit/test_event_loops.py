"""One client across event loops (a notebook re-running its loop, pytest's per-test loops), and
copies that never close what they do not own."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import anyio
import pytest

from atom_stripe import AsyncStripeClient

from ..faultrig import FaultRig


def run(backend: str, fn: Any) -> Any:
    return anyio.run(fn, backend=backend)


@pytest.mark.parametrize(
    "loops", [("asyncio", "asyncio"), ("trio", "trio"), ("asyncio", "trio"), ("trio", "asyncio", "asyncio")]
)
def test_one_client_in_several_event_loops_leaks_nothing(rig: FaultRig, loops: tuple[str, ...]) -> None:
    stripe = AsyncStripeClient("sk_test_loops", base_url=rig.url, max_retries=0)

    async def retrieve() -> str:
        return (await stripe.customers.retrieve("cus_1")).id

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for backend in loops:
            assert run(backend, retrieve) == "cus_1"
            gc.collect()
        run(loops[-1], stripe.aclose)
        gc.collect()
    assert [str(w.message) for w in caught] == []


async def test_leaving_a_copy_does_not_close_the_parents_pool(rig: FaultRig) -> None:
    async with AsyncStripeClient("sk_test_loops", base_url=rig.url, max_retries=0) as stripe:
        async with stripe.for_account("acct_1") as connected:
            assert (await connected.customers.retrieve("cus_1")).id == "cus_1"
        async with stripe.with_options(max_retries=1) as patient:
            await patient.customers.retrieve("cus_2")
        await stripe.with_options(timeout=5).aclose()
        assert not stripe.http_client.is_closed
        assert (await stripe.customers.retrieve("cus_3")).id == "cus_3"
    assert stripe.http_client.is_closed
