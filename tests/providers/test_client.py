"""The client: base URL policy, parameters, envelope and code mapping, retries, paging, secrets."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bcsync.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ExitCode,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ThrottledError,
    TransientError,
)
from bcsync.providers.tiktok.client import (
    RetryPolicy,
    TikTokClient,
    check_base_url,
    encode_params,
)
from bcsync.providers.tiktok.codes import AlreadyDoneError
from bcsync.providers.tiktok.limiter import RateLimiter

from .fakes import FAST, TOKEN, UNLIMITED, FakeApi, body, envelope, paged, params

# ---- base URL ------------------------------------------------------------------------------

# A read whose answer bcsync does not interpret (no shape check): these tests are about transport.
RAW = "bc/pixel/link/get/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://business-api.tiktok.com/open_api/v1.3/", "https://business-api.tiktok.com/open_api/v1.3/"),
        ("https://business-api.tiktok.com", "https://business-api.tiktok.com/open_api/v1.3/"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/open_api/v1.3/"),
        ("http://127.9.9.9:8080/open_api/v1.3", "http://127.9.9.9:8080/open_api/v1.3/"),
        ("http://localhost:8000/", "http://localhost:8000/open_api/v1.3/"),
        ("http://[::1]:9000", "http://[::1]:9000/open_api/v1.3/"),
    ],
)  # fmt: skip
def test_base_url_accepted(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://business-api.tiktok.com/open_api/v1.3/",
        "http://10.0.0.1:8080",
        "http://192.168.1.5",
        "http://localhost.example.com",
        "ftp://127.0.0.1/",
    ],
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(ProviderError, match="refusing"):
        check_base_url(url)


def test_in_process_base_url_may_be_plain_http() -> None:
    assert check_base_url("http://local.bcsync/open_api/v1.3/", in_process=True).startswith("http:")


def test_client_refuses_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ProviderError):
        FakeApi(lambda r: envelope()).client(base_url="http://example.com/open_api/v1.3/")


# ---- request shape -------------------------------------------------------------------------


def test_get_params_are_json_encoded() -> None:
    encoded = encode_params(
        {"bc_id": 7, "filtering": {"user_id": "6"}, "ids": ["1", "2"], "x": None}
    )
    assert encoded == {"bc_id": "7", "filtering": '{"user_id":"6"}', "ids": '["1","2"]'}


async def test_token_sent_as_access_token_header_without_bearer() -> None:
    api = FakeApi(lambda r: envelope(data={"ok": 1}))
    client = api.client()
    assert await client.get(RAW, {"bc_id": "1", "filtering": {"keyword": "a"}}) == {"ok": 1}
    _, request_id = await client.post("bc/member/invite/", {"bc_id": "1", "emails": ["a@b.c"]})
    get, post = api.requests
    assert get.headers["Access-Token"] == TOKEN
    assert "authorization" not in get.headers
    assert str(get.url).startswith(
        "https://business-api.tiktok.com/open_api/v1.3/bc/pixel/link/get/?"
    )
    assert params(get)["filtering"] == '{"keyword":"a"}'
    assert post.method == "POST" and post.headers["content-type"] == "application/json"
    assert body(post) == {"bc_id": "1", "emails": ["a@b.c"]}
    assert request_id == "req-1"


# ---- envelope and codes --------------------------------------------------------------------

CODE_TABLE = [
    (40101, AuthError),
    (40102, AuthError),
    (40104, AuthError),
    (40105, AuthError),
    (40001, PermissionDeniedError),
    (40007, NotFoundError),
    (40000, ApiError),
    (40002, ApiError),
    (40118, PermissionDeniedError),
    (40003, PermissionDeniedError),
    (40125, PermissionDeniedError),
    (40130, PermissionDeniedError),
    (40113, PermissionDeniedError),
    (40117, PermissionDeniedError),
    (40301, PermissionDeniedError),
    (41000, PermissionDeniedError),
    (40106, AuthError),
    (70001, AuthError),
    (40300, NotFoundError),
    (40012, AlreadyDoneError),  # an ApiError; writes confirm it by reading
    (40050, AlreadyDoneError),
    (40100, ThrottledError),
    (61000, ThrottledError),
    (40016, ThrottledError),
    (40133, ThrottledError),
    (40132, ThrottledError),
    (50000, TransientError),
    (50002, TransientError),
    (51001, TransientError),
    (51021, TransientError),
    (60001, TransientError),
    (40202, TransientError),
]
RETRIED = (ThrottledError, TransientError)


@pytest.mark.parametrize(("code", "kind"), CODE_TABLE)
async def test_error_code_maps_to_exception_and_exit_code(code: int, kind: type) -> None:
    api = FakeApi(lambda r: envelope(code, message="nope", request_id="rq-9"))
    with pytest.raises(kind) as caught:
        await api.client().get(RAW, {"bc_id": "42"})
    err = caught.value
    assert type(err) is kind
    assert err.exit_code is ExitCode.RUNTIME
    assert err.code == code and err.request_id == "rq-9"
    assert str(code) in err.message and "rq-9" in err.message and "nope" in err.message
    assert len(api.requests) == (FAST.attempts if kind in RETRIED else 1)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (40102, "expired"),
        (40104, "TIKTOK_ACCESS_TOKEN"),
        (40105, "TIKTOK_ACCESS_TOKEN"),
        (40001, "not an admin of BC 42"),
        (40003, "40003 FORBIDDEN"),
        (40118, "allowlist"),
        (40125, "40125 DEVELOPER_NO_PERMISSION"),
        (40130, "TIKTOK_ACCESS_TOKEN"),
    ],
)
async def test_auth_and_permission_errors_say_what_to_do(code: int, words: str) -> None:
    api = FakeApi(lambda r: envelope(code, message="bad"))
    with pytest.raises(ProviderError) as caught:
        await api.client().get(RAW, {"bc_id": "42"})
    assert words in (caught.value.hint or "")


async def test_throttle_then_success_is_retried() -> None:
    answers = iter([envelope(40100), envelope(40133), envelope(data={"v": 1})])
    api = FakeApi(lambda r: next(answers))
    client = api.client()
    assert await client.get(RAW, {}) == {"v": 1}
    assert (client.stats.calls, client.stats.throttled) == (3, 2)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(502, text="<html>502 Bad Gateway</html>"),
        httpx.Response(504, text=""),
        httpx.Response(200, text="<html>oops</html>"),
        envelope(50002),
    ],
)
async def test_transient_get_is_retried(failure: httpx.Response) -> None:
    answers = iter([failure, envelope(data={"v": 2})])
    api = FakeApi(lambda r: next(answers))
    assert await api.client().get(RAW, {}) == {"v": 2}
    assert len(api.requests) == 2


async def test_http_404_without_envelope_fails_at_once() -> None:
    api = FakeApi(lambda r: httpx.Response(404, text="404 page not found"))
    with pytest.raises(ApiError, match="HTTP 404"):
        await api.client().get("bc/nope", {})
    assert len(api.requests) == 1


async def test_get_that_hangs_hits_the_deadline_and_is_retried() -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(5)
        return envelope(data={"v": 3})

    api = FakeApi(handler)
    assert await api.client().get(RAW, {}) == {"v": 3}
    assert calls == 2


async def test_get_that_always_hangs_gives_up_with_transient_error() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return envelope()

    retry = RetryPolicy(attempts=3, base_delay=0.001, request_timeout=0.05, throttle_delay=0)
    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        await FakeApi(handler).client(retry=retry).get(RAW, {})


async def test_total_time_bounds_the_retries() -> None:
    retry = RetryPolicy(attempts=100, total_seconds=0.05, base_delay=0.02, throttle_delay=0.02)
    api = FakeApi(lambda r: envelope(40100))
    with pytest.raises(ThrottledError):
        await api.client(retry=retry).get(RAW, {})
    assert 1 < len(api.requests) < 10


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(504, text="<html>Gateway Time-out</html>"),
        httpx.Response(200, text="not json"),
        envelope(50000),
        "hang",
        "read-error",
    ],
)
async def test_post_with_an_ambiguous_failure_is_not_retried(failure: object) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if failure == "hang":
            await asyncio.sleep(5)
        if failure == "read-error":
            raise httpx.ReadError("connection reset", request=request)
        assert isinstance(failure, httpx.Response)
        return failure

    api = FakeApi(handler)
    with pytest.raises(AmbiguousWriteError, match="may or may not"):
        await api.client().post("bc/member/invite/", {"bc_id": "1", "emails": ["a@b.c"]})
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "first",
    [envelope(40100), "connect-error"],
)
async def test_post_never_sent_or_refused_is_retried(first: object) -> None:
    answers = iter([first, envelope(request_id="rq-ok")])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if answer == "connect-error":
            raise httpx.ConnectError("refused", request=request)
        return answer

    api = FakeApi(handler)
    _, request_id = await api.client().post("bc/member/update/", {"bc_id": "1"})
    assert request_id == "rq-ok" and len(api.requests) == 2


# ---- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 20, 21, 50, 51, 100, 101])
@pytest.mark.parametrize("page_size", [20, 50])
async def test_paging_at_page_boundaries(count: int, page_size: int) -> None:
    items = [{"n": i} for i in range(count)]
    api = FakeApi(lambda r: paged(items, r))
    listing = await api.client().get_all(RAW, {"bc_id": "1"}, page_size=page_size)
    assert listing.items == items and listing.total == count
    assert len(api.requests) == max(1, -(-count // page_size))
    assert sorted(int(params(r)["page"]) for r in api.requests) == list(
        range(1, len(api.requests) + 1)
    )


async def test_paging_falls_back_when_page_size_is_rejected() -> None:
    items = [{"n": i} for i in range(45)]
    api = FakeApi(lambda r: paged(items, r, max_size=20))
    client = api.client()
    listing = await client.get_all(RAW, {"bc_id": "1"}, page_size=50, fallback_page_size=20)
    assert listing.items == items
    assert [params(r)["page_size"] for r in api.requests] == ["50", "20", "20", "20"]
    # Learned: the next listing asks 20 straight away.
    await client.get_all(RAW, {"bc_id": "1"}, page_size=50, fallback_page_size=20)
    assert params(api.requests[4])["page_size"] == "20"


async def test_paging_follows_a_silently_capped_page_size() -> None:
    items = [{"n": i} for i in range(41)]

    def capped(request: httpx.Request) -> httpx.Response:
        size = min(int(params(request)["page_size"]), 20)
        page = int(params(request)["page"])
        info = {"page": page, "page_size": size, "total_number": 41, "total_page": 3}
        chunk = items[(page - 1) * size : page * size]
        return envelope(data={"list": chunk, "page_info": info})

    api = FakeApi(capped)
    listing = await api.client().get_all(RAW, {"bc_id": "1"}, page_size=50)
    assert listing.items == items and len(api.requests) == 3


async def test_paging_without_page_info_walks_until_a_short_page() -> None:
    items = [{"n": i} for i in range(25)]

    def bare(request: httpx.Request) -> httpx.Response:
        page, size = int(params(request)["page"]), int(params(request)["page_size"])
        return envelope(data={"list": items[(page - 1) * size : page * size]})

    listing = await FakeApi(bare).client().get_all("x/", {}, page_size=10)
    assert listing.items == items


async def test_paging_other_parameter_error_is_not_swallowed() -> None:
    api = FakeApi(lambda r: envelope(40002, message="Missing required field(s): bc_id"))
    with pytest.raises(ApiError, match="bc_id"):
        await api.client().get_all(RAW, {}, page_size=50, fallback_page_size=20)
    assert len(api.requests) == 1


# ---- secrets -------------------------------------------------------------------------------


async def test_token_never_leaks(caplog: pytest.LogCaptureFixture, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Access token {TOKEN} is incorrect or has been revoked."
    first = envelope(40100, message=echo)
    answers = iter(
        [first, httpx.Response(502, text=f"<p>{TOKEN}</p>"), envelope(40105, message=echo)]
    )
    api = FakeApi(lambda r: next(answers))
    client = api.client()
    with pytest.raises(AuthError) as caught:
        await client.get(RAW, {"bc_id": "1"})
    err = caught.value
    texts = [str(err), repr(err), err.hint or "", repr(client), str(vars(err))]
    texts += [caplog.text, *capsys.readouterr()]
    assert all(TOKEN not in t for t in texts)
    assert "[redacted]" in str(err)


async def test_empty_token_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as caught:
        TikTokClient(httpx.AsyncClient(), token="", limiter=RateLimiter(UNLIMITED), token_env="MY")
    assert "MY" in (caught.value.hint or "")
