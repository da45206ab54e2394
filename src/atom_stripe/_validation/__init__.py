"""Everything atom_stripe checks of what a user passes in, before anything is sent.

A client's settings are checked once, when it is made (:mod:`._settings`: API key and URLs,
API version, timeouts, retries, response size cap; a rate limiter's rates, ``check_rate``).
One generated call then runs its checks in this order, and the first mismatch raises
:class:`~atom_stripe.StripeValueError` naming the parameter the way Stripe would
(``items[0][price]``):

1. the path ids (``check_id``, through ``Service``'s path filling): nothing may change the URL;
2. ``idempotency_key`` only on a POST (v2: or a DELETE; ``check_keyed_method``);
3. :func:`wire_params`: amounts, currencies and metadata anywhere in the parameters
   (``check_values``: their messages teach more than a type check's), then the walk of the
   call's params TypedDict (``checked_params``, which also names the empty mappings to leave
   out), then ``expand`` (``check_expand``), then ``extra_params`` (keys, no clash with a
   keyword, the same value checks);
4. ``stripe_account`` (``check_account``: it becomes a header);
5. a call: the parameters one of which it needs (``check_one_of``); a list or search: its
   ``limit``, cursors and ``expand`` under ``data.`` (``check_list_params``); an upload: its
   ``file=`` (``check_upload``, as the multipart body is built);
6. at send, the ``Idempotency-Key`` (``check_idempotency_key``).

``client.request(...)`` (the escape hatch) checks its method, path, params and ``cast_to``
(``check_raw_call``), then the account. Encoding afterwards (``_encoding``) keeps only the
guards that protect the wire (a value that has no form encoding), not these rules.

:func:`fields_of` and :func:`check_params` are public (``atom_stripe.types``): the fake and the
FastAPI router walk params TypedDicts with them.
"""

from ._call import (
    MAX_LIMIT,
    METHODS,
    check_expand,
    check_keyed_method,
    check_list_params,
    check_raw_call,
    check_upload,
    wire_params,
)
from ._params import check_params, checked_params, fields_of
from ._settings import (
    check_api_version,
    check_idempotency_key,
    check_key,
    check_max_response_size,
    check_rate,
    check_retries,
    check_timeout,
    check_total_timeout,
    is_header_text,
    is_loopback,
)
from ._values import (
    AMOUNT_KEYS,
    MAX_METADATA_KEY,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE,
    ONE_OF_REQUIRED,
    POSITIVE_AMOUNT_PATHS,
    amounts_signed,
    check_account,
    check_id,
    check_metadata,
    check_one_of,
    check_values,
)

__all__ = [
    "AMOUNT_KEYS",
    "MAX_LIMIT",
    "MAX_METADATA_KEY",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_VALUE",
    "METHODS",
    "ONE_OF_REQUIRED",
    "POSITIVE_AMOUNT_PATHS",
    "amounts_signed",
    "check_account",
    "check_api_version",
    "check_expand",
    "check_id",
    "check_idempotency_key",
    "check_key",
    "check_list_params",
    "check_max_response_size",
    "check_metadata",
    "check_one_of",
    "check_params",
    "check_keyed_method",
    "check_rate",
    "check_raw_call",
    "check_retries",
    "check_timeout",
    "check_upload",
    "check_total_timeout",
    "check_values",
    "checked_params",
    "fields_of",
    "is_header_text",
    "is_loopback",
    "wire_params",
]
