"""List and search pages, and the paginator that ``list()`` and ``search()`` return.

``await stripe.customers.list(limit=10)`` gives the first :class:`Page`;
``async for customer in stripe.customers.list(limit=10)`` walks every customer,
fetching the next page while you work through the current one; ``.pages()`` walks
page by page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar, cast

import anyio
import sniffio
from pydantic import Field, PrivateAttr

from ._errors import NotAwaitedError, StripeUsageError
from .models._base import StripeObject

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Page[Any] | SearchPage[Any] | V2Page[Any]")

Fetch = Callable[[Mapping[str, Any]], Awaitable[P]]


class _PageBase(StripeObject, Generic[T]):
    data: list[T] = Field(default_factory=list)
    has_more: bool = False
    url: str | None = None

    _fetch: Any = PrivateAttr(None)
    _params: Mapping[str, Any] = PrivateAttr(default_factory=dict)

    def next_params(self) -> dict[str, Any] | None:
        """The parameters of the next page, or None on the last one."""
        raise NotImplementedError

    def has_next_page(self) -> bool:
        """Whether another page follows this one."""
        return self.next_params() is not None

    async def get_next_page(self) -> Any:
        """Fetch the page after this one; None when this is the last."""
        params = self.next_params()
        if params is None:
            return None
        if self._fetch is None:
            raise StripeUsageError(
                "this page was not fetched by a client here (unpickled, or made by hand), so it cannot "
                "fetch the next one: call list(..., starting_after=<the last item's id>)"
            )
        return await self._fetch(params)

    def __getstate__(self) -> dict[Any, Any]:
        # The fetch function (a closure over the client) cannot be pickled: a page travels without it.
        state: dict[Any, Any] = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private and private.get("_fetch") is not None:
            state = {**state, "__pydantic_private__": {**private, "_fetch": None}}
        return state

    def __len__(self) -> int:
        return len(self.data)

    # A page iterates its items, as stripe-python's ListObject does (not pydantic's field pairs);
    # like that dict, it still maps its field names: dict(page), page["has_more"].
    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.data)

    def keys(self) -> list[str]:
        return [*self.__dict__, *(self.__pydantic_extra__ or {})]

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str):
            raise StripeUsageError(f"a page maps field names; its items are page.data[{key!r}] (or `for item in page`)")
        if key in self.__dict__:
            return self.__dict__[key]
        return (self.__pydantic_extra__ or {})[key]

    async def __aiter__(self) -> AsyncIterator[T]:
        """This page's items (``async for`` over the paginator walks every page)."""
        for item in self.data:
            yield item

    def _repr_html_(self) -> str:
        from ._display import page_html

        return page_html(self)


class Page(_PageBase[T]):
    """One page of a list: ``data``, ``has_more``; ``await page.get_next_page()`` for the next."""

    object: Literal["list"] = "list"
    total_count: int | None = None

    def next_params(self) -> dict[str, Any] | None:
        if not self.has_more or not self.data:
            return None
        params = dict(self._params)
        if params.get("ending_before") is not None:
            # Walking backwards: the next page is the one before the first item.
            params["ending_before"] = getattr(self.data[0], "id")
        else:
            params["starting_after"] = getattr(self.data[-1], "id")
        return params


class SearchPage(_PageBase[T]):
    """One page of search results; the next one follows the ``next_page`` token."""

    object: Literal["search_result"] = "search_result"
    next_page: str | None = None
    total_count: int | None = None

    def next_params(self) -> dict[str, Any] | None:
        if not self.has_more or not self.next_page:
            return None
        return {**self._params, "page": self.next_page}


#: What a page has and a paginator does not: asked of a paginator, the list was not awaited.
_PAGE_ATTRIBUTES = frozenset(
    {*Page.model_fields, *SearchPage.model_fields, "get_next_page", "has_next_page", "next_params"}
)


class AsyncPaginator(Generic[T, P]):
    """What ``list()`` and ``search()`` return: await it for the first page, or iterate it."""

    def __init__(self, fetch: Fetch[P], params: Mapping[str, Any]) -> None:
        self._fetch = fetch
        self._params = params

    async def first_page(self) -> P:
        """The first page."""
        return await self._fetch(self._params)

    def __await__(self) -> Generator[Any, None, P]:
        return self.first_page().__await__()

    if not TYPE_CHECKING:  # hidden from type checkers, so they keep flagging a plain ``for``

        def __iter__(self) -> NoReturn:
            raise StripeUsageError(
                "a list or search is async: iterate it with `async for item in stripe.customers.list(...)`, "
                "or `page = await stripe.customers.list(...)` for one page"
            )

        def __getattr__(self, name: str) -> NoReturn:
            if name in _PAGE_ATTRIBUTES:
                raise NotAwaitedError(
                    f"{name!r} is an attribute of a page: await the list first, "
                    "`page = await stripe.customers.list(...)`, then `page.{name}`"
                )
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    async def pages(self) -> AsyncIterator[P]:
        """Every page, one request each, until the last."""
        page: P | None = await self._fetch(self._params)
        while page is not None:
            yield page
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        """Every item of every page. The next page is fetched while you work through this
        one (at most one page ahead), so your work and the network overlap."""
        page: P = await self._fetch(self._params)
        while True:
            ahead = Prefetch(page.get_next_page) if page.has_next_page() else None
            try:
                for item in page.data:
                    yield item
                if ahead is None:
                    return
                page = await ahead.result()
            finally:
                if ahead is not None:
                    ahead.cancel()


# Fetch the next page while the caller works through this one.
#
# An async generator cannot hold a task group across its ``yield`` (its cleanup may run
# in another task), so the one background fetch runs as a plain asyncio task, or a trio
# system task under a cancel scope of its own. It never outlives the iteration: leaving
# the loop early, or being cancelled, cancels it.


class Prefetch(Generic[R]):
    """One awaitable, started now in the background; ``await result()`` when it is needed."""

    def __init__(self, fetch: Callable[[], Awaitable[R]]) -> None:
        self._done = anyio.Event()
        self._result: R | None = None
        self._error: BaseException | None = None
        self._cancel: Callable[[], Any]
        if sniffio.current_async_library() == "asyncio":
            import asyncio

            task = asyncio.ensure_future(self._run(fetch))
            self._cancel = task.cancel
        else:
            import trio

            scope = trio.CancelScope()
            self._cancel = scope.cancel

            async def run() -> None:
                with scope:
                    await self._run(fetch)

            trio.lowlevel.spawn_system_task(run)

    async def _run(self, fetch: Callable[[], Awaitable[R]]) -> None:
        try:
            self._result = await fetch()
        except BaseException as exc:  # handed to whoever awaits the result, never lost
            self._error = exc
        finally:
            self._done.set()

    async def result(self) -> R:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        # Set by _run before _done, unless _error is: R itself may include None.
        return cast(R, self._result)

    def cancel(self) -> None:
        """Stop the fetch if it is still running (a no-op once it is done)."""
        if not self._done.is_set():
            self._cancel()


class V2Page(_PageBase[T]):
    """One page of a v2 list; the next one is at ``next_page_url`` (v2 lists have no ``has_more``)."""

    next_page_url: str | None = None
    previous_page_url: str | None = None

    def next_params(self) -> dict[str, Any] | None:
        # stripe-python's v2 ListObject GETs next_page_url as given: its query is the whole request.
        if not self.next_page_url:
            return None
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.next_page_url).query, keep_blank_values=True))
