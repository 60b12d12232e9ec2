"""The request path as an API Gateway HTTP API delivers it: decoded, and refused when it cannot be.

What a deployed HTTP API (payload format 2.0, `$default` stage) does with the path a client
sends, observed on live APIs and published with the captures (hotsock/voker, pull request 8,
`vokerhttp/testdata/ingress-paths.json`, captured from a real HTTP API in us-west-2; its probe
is `examples/aws-ingress-probe/paths.py`):

| sent path                    | `rawPath` and `requestContext.http.path`  |
| ---------------------------- | ----------------------------------------- |
| `/capture/space%20value`     | `/capture/space value`                    |
| `/capture/unicode-%CE%BB`    | `/capture/unicode-λ`                      |
| `/capture/slash%2Fvalue`     | `/capture/slash/value`                    |
| `/capture/hash%23value`      | `/capture/hash#value`                     |
| `/capture/question%3Fvalue`  | `/capture/question` (cut at the `?`)      |
| `/capture/literal%252Fvalue` | `/capture/literal/value` (decoded twice)  |
| `/capture/literal%253Fvalue` | `/capture/literal?value`                  |
| `/capture/literal%2525value` | `/capture/literal%value`                  |
| `/capture/percent%25done`    | refused: 400                              |

One rule explains every row: the path is percent-decoded, cut at the first `?` the decoding
produced, then percent-decoded again; an escape that is not `%` and two hex digits, in either
pass, is refused with 400 (`%25done` is `%done` after the first pass). REST APIs and function
URLs keep the path encoded; only HTTP APIs decode it (same captures). AWS's own documentation
("Create AWS Lambda proxy integrations for HTTP APIs") shows only plain paths.

Two choices where no capture says what AWS does, both on the side of refusing (400) rather than
guessing: a path whose bytes are not UTF-8, raw in the request line or after decoding (raw
UTF-8 in the request line is read as UTF-8, as the escaped form is), and a path that does not
start with `/`. Routes are matched against the delivered path, so `/items/a%2Fb` is
`/items/a/b` to the router, as on AWS, and path parameters are its segments, not decoded again.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class RefusedPath(ValueError):
    """A request path API Gateway answers with 400 instead of invoking a function."""


def _percent_decoded(data: bytes, sent: bytes) -> bytes:
    bad = _BAD_ESCAPE.search(data)
    if bad is not None:
        shown = data[bad.start() : bad.start() + 3].decode("latin-1")
        raise RefusedPath(
            f"the path {_shown(sent)} has {shown!r}, which is not a percent-escape once "
            "API Gateway has decoded it (write a literal % as %25, and not inside another escape)"
        )
    return _ESCAPE.sub(lambda found: bytes([int(found.group(1), 16)]), data)


def _text(data: bytes, sent: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedPath(f"the path {_shown(sent)} is not UTF-8 once decoded") from None


def _shown(sent: bytes) -> str:
    return repr(sent.decode("utf-8", errors="backslashreplace"))


def delivered_path(sent: bytes) -> str:
    """`rawPath` for the path part of a request target (the bytes before its `?`).

    Raises RefusedPath, which the front end answers with 400 as API Gateway does.
    """
    if not sent.startswith(b"/"):
        raise RefusedPath(f"the request target {_shown(sent)} is not a path starting with /")
    _text(sent, sent)  # raw bytes that are not UTF-8 are refused before anything else
    once = _text(_percent_decoded(sent, sent), sent)
    cut = once.split("?", 1)[0]
    return _text(_percent_decoded(cut.encode("utf-8"), sent), sent)


def split_target(target: bytes) -> tuple[bytes, str]:
    """`(path bytes, rawQueryString)` of a request target, the query read as UTF-8.

    The query is delivered as sent (`rawQueryString` stays encoded on AWS: voker's capture
    `vokerhttp/testdata/apigwv2-request.json` has `redirect=https%3A%2F%2Fexample.com...`).
    """
    path, _, query = target.partition(b"?")
    try:
        return path, query.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedPath(f"the query string of {_shown(target)} is not UTF-8") from None
