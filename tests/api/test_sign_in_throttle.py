"""Sign-in throttling that cannot be turned against the owner, the client address behind
trusted proxies only, and a throttle that forgets addresses when their window ends."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.requests import Request

from api.addresses import client_address, parse_networks
from api.config import Settings
from api.security import LoginThrottle
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token"
WRONG = "not the right passphrase"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(app, monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(app.state.security.throttle, "clock", fake)
    return fake


@pytest.fixture
def from_address(app, engine) -> Iterator:
    """`from_address("203.0.113.5")`: a client whose direct peer is that address."""
    opened: list[TestClient] = []

    def open_client(host: str) -> TestClient:
        test_client = TestClient(app, raise_server_exceptions=False, client=(host, 40000))
        opened.append(test_client)
        return test_client

    yield open_client
    for test_client in opened:
        test_client.close()


def sign_in(client, handle, password=PASSWORD, headers=None):
    return client.post(
        TOKEN, data={"username": handle, "password": password}, headers=headers or {}
    )


# --- who counts against whom -------------------------------------------------------


def test_guesses_from_one_address_never_lock_the_owner_out_from_another(app, make, from_address):
    make.user(handle="official-li")
    attacker, owner = from_address("203.0.113.5"), from_address("198.51.100.20")
    for _ in range(app.state.settings.login_failures_per_pair):
        assert sign_in(attacker, "official-li", WRONG).status_code == 401
    refused = sign_in(attacker, "official-li")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert sign_in(owner, "official-li").status_code == 200


def test_successful_sign_ins_never_count(app, make, from_address, monkeypatch):
    make.user(handle="busy-office")
    monkeypatch.setattr(app.state.security.throttle, "per_address", 3)
    office = from_address("198.51.100.30")
    for _ in range(6):
        assert sign_in(office, "busy-office").status_code == 200


def test_the_owners_success_forgives_their_own_typos_only(app, make, from_address):
    make.user(handle="typist")
    owner = from_address("198.51.100.31")
    limit = app.state.settings.login_failures_per_pair
    for _ in range(limit - 1):
        assert sign_in(owner, "typist", WRONG).status_code == 401
    assert sign_in(owner, "typist").status_code == 200
    for _ in range(limit - 1):
        assert sign_in(owner, "typist", WRONG).status_code == 401
    assert sign_in(owner, "typist").status_code == 200


def test_one_address_guessing_many_accounts_is_stopped(app, make, from_address, monkeypatch):
    monkeypatch.setattr(app.state.security.throttle, "per_address", 3)
    for handle in ("acct-a", "acct-b", "acct-c", "acct-d"):
        make.user(handle=handle)
    sprayer = from_address("203.0.113.6")
    for handle in ("acct-a", "acct-b", "acct-c"):
        assert sign_in(sprayer, handle, WRONG).status_code == 401
    assert sign_in(sprayer, "acct-d").status_code == 429
    # ... and nobody else
    assert sign_in(from_address("198.51.100.32"), "acct-d").status_code == 200


def test_a_distributed_attack_slows_the_account_down_but_never_locks_it(
    app, make, from_address, clock, monkeypatch
):
    make.user(handle="targeted")
    monkeypatch.setattr(app.state.security.throttle, "per_account", 3)
    for n in range(3):
        assert sign_in(from_address(f"203.0.113.{10 + n}"), "targeted", WRONG).status_code == 401
    owner = from_address("198.51.100.40")
    slowed = sign_in(owner, "targeted")
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "1"
    clock.advance(1)
    assert sign_in(owner, "targeted").status_code == 200

    # Each further failure doubles the delay, up to the cap; the window still ends.
    assert sign_in(from_address("203.0.113.20"), "targeted", WRONG).status_code == 401
    assert sign_in(owner, "targeted").headers["Retry-After"] == "2"
    clock.advance(2)
    assert sign_in(from_address("203.0.113.21"), "targeted", WRONG).status_code == 401
    assert sign_in(owner, "targeted").headers["Retry-After"] == "4"
    clock.advance(4)
    assert sign_in(owner, "targeted").status_code == 200


def test_the_account_delay_is_capped(app, clock):
    throttle = LoginThrottle(app.state.settings, clock=clock)
    throttle.per_account, throttle.backoff_max = 2, 5
    for n in range(12):
        throttle.failed("acct", f"203.0.113.{n}")
    assert throttle.check("acct", "198.51.100.1") == 5


# --- the client address: proxies named in CIVIC_TRUSTED_PROXIES only ----------------


def request(peer: str, **headers: str | list[str]) -> Request:
    raw = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            raw.append((name.replace("_", "-").encode(), one.encode()))
    return Request({"type": "http", "headers": raw, "client": (peer, 40000)})


PROXIES = parse_networks("10.0.0.0/8, fd00::/8, 192.0.2.1")


@pytest.mark.parametrize(
    ("peer", "header", "headers", "expected"),
    [
        # a client that is not a proxy: its headers are ignored
        ("203.0.113.5", "x-forwarded-for", {"x_forwarded_for": "198.51.100.1"}, "203.0.113.5"),
        ("203.0.113.5", "forwarded", {"forwarded": "for=198.51.100.1"}, "203.0.113.5"),
        # through a trusted proxy: the address it appended
        ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "198.51.100.1"}, "198.51.100.1"),
        # what the client wrote to the left of it is not believed
        (
            "10.0.0.2",
            "x-forwarded-for",
            {"x_forwarded_for": "1.1.1.1, 198.51.100.1"},
            "198.51.100.1",
        ),
        # two trusted hops are skipped, right to left
        (
            "10.0.0.2",
            "x-forwarded-for",
            {"x_forwarded_for": ["6.6.6.6, 198.51.100.1", "10.1.1.1, 192.0.2.1"]},
            "198.51.100.1",
        ),
        # every hop trusted: the farthest
        ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "10.9.9.9, 10.1.1.1"}, "10.9.9.9"),
        # no header: the proxy itself
        ("10.0.0.2", "x-forwarded-for", {}, "10.0.0.2"),
        # RFC 7239, quoted IPv6 with a port, other parameters
        (
            "fd00::1",
            "forwarded",
            {"forwarded": 'for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https'},
            "2001:db8:cafe::17",
        ),
        (
            "10.0.0.2",
            "forwarded",
            {"forwarded": ["for=1.1.1.1", 'for="198.51.100.9:443";by=10.0.0.2']},
            "198.51.100.9",
        ),
        # an unknown or obfuscated client: counted against the nearest trusted hop
        ("10.0.0.2", "forwarded", {"forwarded": "for=1.1.1.1, for=unknown"}, "10.0.0.2"),
        ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "1.1.1.1, garbage"}, "10.0.0.2"),
        # only the header the proxy is said to write is read
        ("10.0.0.2", "forwarded", {"x_forwarded_for": "198.51.100.1"}, "10.0.0.2"),
        ("10.0.0.2", "x-forwarded-for", {"forwarded": "for=198.51.100.1"}, "10.0.0.2"),
        # an IPv4 address mapped into IPv6 is the IPv4 address
        (
            "::ffff:10.0.0.2",
            "x-forwarded-for",
            {"x_forwarded_for": "::ffff:198.51.100.1"},
            "198.51.100.1",
        ),
    ],
)
def test_the_client_address(peer, header, headers, expected):
    assert client_address(request(peer, **headers), PROXIES, header) == expected


def test_without_trusted_proxies_every_header_is_ignored():
    forwarded = request("10.0.0.2", x_forwarded_for="198.51.100.1", forwarded="for=1.2.3.4")
    assert client_address(forwarded, (), "x-forwarded-for") == "10.0.0.2"


def test_trusted_proxies_setting_is_parsed_and_checked(monkeypatch):
    monkeypatch.delenv("CIVIC_TRUSTED_PROXIES", raising=False)
    settings = Settings(_env_file=None, trusted_proxies=" 10.0.0.1 , fd00::/8,192.168.0.0/16")  # type: ignore[call-arg]
    assert [str(n) for n in settings.trusted_proxy_networks] == [
        "10.0.0.1/32",
        "fd00::/8",
        "192.168.0.0/16",
    ]
    assert Settings(_env_file=None).trusted_proxy_networks == ()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"CIVIC_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings(_env_file=None, trusted_proxies="10.0.0.1,proxy.local")  # type: ignore[call-arg]


def test_forwarded_addresses_are_ignored_from_an_untrusted_peer(app, make, from_address):
    make.user(handle="spoofed")
    attacker = from_address("203.0.113.7")
    for n in range(app.state.settings.login_failures_per_pair):
        xff = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert sign_in(attacker, "spoofed", WRONG, headers=xff).status_code == 401
    xff = {"X-Forwarded-For": "198.51.100.99", "Forwarded": "for=198.51.100.98"}
    assert sign_in(attacker, "spoofed", headers=xff).status_code == 429


@pytest.mark.parametrize("header", ["x-forwarded-for", "forwarded"])
def test_behind_a_trusted_proxy_each_client_is_throttled_apart(
    app, make, from_address, monkeypatch, header
):
    make.user(handle="proxied")
    monkeypatch.setattr(app.state.security, "trusted_proxies", parse_networks("10.0.0.0/8"))
    monkeypatch.setattr(app.state.settings, "proxy_header", header)

    def via_proxy(address: str) -> dict[str, str]:
        if header == "forwarded":
            return {"Forwarded": f"for={address}"}
        return {"X-Forwarded-For": address}

    proxy = from_address("10.0.0.2")
    for _ in range(app.state.settings.login_failures_per_pair):
        assert sign_in(proxy, "proxied", WRONG, headers=via_proxy("203.0.113.8")).status_code == 401
    assert sign_in(proxy, "proxied", headers=via_proxy("203.0.113.8")).status_code == 429
    # the owner, behind the same proxy, is another client
    assert sign_in(proxy, "proxied", headers=via_proxy("198.51.100.50")).status_code == 200


# --- forgetting -----------------------------------------------------------------------


def test_failures_are_forgotten_when_their_window_ends(app, clock):
    throttle = LoginThrottle(app.state.settings, clock=clock)
    throttle.failed("acct-1", "203.0.113.9")
    clock.advance(100)
    throttle.failed("acct-2", "198.51.100.9")
    assert len(throttle._failures) == 6 and len(throttle._expiry) == 6
    # addresses are held only as keyed hashes
    assert "203.0.113.9" not in repr(throttle._failures)

    clock.advance(throttle.window - 100)  # the first failure's window has ended
    throttle.check("someone-else", "192.0.2.77")
    assert {key[1] for key in throttle._failures} == {"acct-2", ""}
    assert len(throttle._failures) == 3 and len(throttle._expiry) == 3

    clock.advance(100)
    throttle.sweep()
    assert throttle._failures == {} and len(throttle._expiry) == 0


def test_a_forgiven_pair_does_not_confuse_the_forgetting(app, clock):
    throttle = LoginThrottle(app.state.settings, clock=clock)
    throttle.failed("acct", "203.0.113.9")
    throttle.succeeded("acct", "203.0.113.9")
    clock.advance(10)
    throttle.failed("acct", "203.0.113.9")
    clock.advance(throttle.window - 5)  # the first failure's window has ended
    throttle.sweep()
    # the pair's later failure is still counted, once
    assert sorted(len(events) for events in throttle._failures.values()) == [1, 1, 1]
    clock.advance(5)
    throttle.sweep()
    assert throttle._failures == {}


def test_the_running_app_forgets_without_another_sign_in(app, client, make, from_address, clock):
    # `client` runs the app's lifespan, and with it the sweeper
    make.user(handle="forgotten")
    assert sign_in(from_address("203.0.113.10"), "forgotten", WRONG).status_code == 401
    throttle = app.state.security.throttle
    assert throttle._failures
    clock.advance(throttle.window)
    deadline = time.monotonic() + 5
    while throttle._failures and time.monotonic() < deadline:
        time.sleep(0.1)
    assert throttle._failures == {} and len(throttle._expiry) == 0
