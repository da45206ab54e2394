"""Run localstripe on 127.0.0.1 with in-memory state only.

localstripe's own command line binds every interface and pickles its state to a
fixed file in the temp folder after every write. This launcher binds loopback,
takes a free port when asked for port 0, prints ``PORT <n>`` once it listens, and
keeps state in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import socket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]

    async def announce(_app: web.Application) -> None:
        print(f"PORT {port}", flush=True)

    server.app.on_startup.append(announce)
    asyncio.set_event_loop(asyncio.new_event_loop())
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
