"""One process of the SQLite refresh-lock test: refresh one stored token, print the refresh token it ends with.

python -m tests.token_store_worker DB_PATH KEY CONNECT_URL ACCOUNT START_AT
"""

from __future__ import annotations

import sys
import time

import anyio

from atom_stripe.oauth import SQLiteTokenStore, StripeOAuth

from .unit.test_oauth import CLIENT_ID, PLATFORM_KEY


async def main(path: str, key: str, url: str, account: str, start_at: float) -> None:
    store = SQLiteTokenStore(path, key=key)
    async with StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=url) as oauth:
        await anyio.sleep(max(0.0, start_at - time.time()))
        token = await oauth.refresh_stored(store, account)
    store.close()
    assert token.refresh_token is not None
    print("token", token.refresh_token.get_secret_value(), flush=True)


if __name__ == "__main__":
    path, key, url, account, start_at = sys.argv[1:6]
    anyio.run(main, path, key, url, account, float(start_at))
