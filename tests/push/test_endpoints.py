"""The push endpoint check (SSRF): every address class refused, after resolution."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from inner_circle.server.push.endpoints import EndpointRefused, address_refusal, check_endpoint
from inner_circle.server.settings import Settings

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "shared",
    "169.254.10.20": "link-local",
    "fe80::1": "link-local",
    "169.254.169.254": "metadata",
    "fd00:ec2::254": "metadata",
    "100.100.100.200": "metadata",
    "fc00::1": "unique-local",
    "fd12:3456::1": "unique-local",
    "fec0::1": "site-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "255.255.255.255": "reserved",
    "240.0.0.1": "reserved",
    "192.0.2.1": "documentation",
    "2001:db8::1": "documentation",
    "198.18.0.1": "benchmarking",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:10.0.0.1": "private",
    "64:ff9b::a9fe:a9fe": "metadata",  # NAT64 of 169.254.169.254
    "2002:c0a8:0101::1": "private",  # 6to4 of 192.168.1.1
}
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "142.250.74.110"]


@pytest.mark.parametrize(("address", "kind"), sorted(REFUSED.items()))
def test_each_address_class_is_refused(address: str, kind: str) -> None:
    assert address_refusal(address) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address) is None


def resolver(answers: Sequence[str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        assert host == "push.example"
        return answers

    return resolve


async def test_every_resolved_address_is_checked() -> None:
    url = "https://push.example/wpush/v2/abc"
    checked = await check_endpoint(url, resolver=resolver(["93.184.215.14", "2606:4700::1"]))
    assert checked.addresses == ("93.184.215.14", "2606:4700::1")
    assert (checked.host, checked.port, checked.path) == ("push.example", 443, "/wpush/v2/abc")
    for bad in ("10.0.0.5", "169.254.169.254", "::1", "fd00::1"):
        with pytest.raises(EndpointRefused, match="refused"):
            await check_endpoint(url, resolver=resolver(["93.184.215.14", bad]))
    with pytest.raises(EndpointRefused, match="does not resolve"):
        await check_endpoint(url, resolver=resolver([]))


@pytest.mark.parametrize(
    "url",
    [
        "http://push.example/x",  # not https
        "ftp://push.example/x",
        "https:///x",
        "https://user:pw@push.example/x",
        "https://push.example/x#frag",
        "https://push.example:99999/x",
        "https://push.example/" + "x" * 2048,
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:169.254.169.254]/x",
    ],
)
async def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(EndpointRefused):
        await check_endpoint(url, resolver=resolver(["93.184.215.14"]))


async def test_loopback_flag_lets_loopback_and_http_through_only() -> None:
    checked = await check_endpoint("http://127.0.0.1:8080/p", allow_loopback=True)
    assert checked.addresses == ("127.0.0.1",)
    with pytest.raises(EndpointRefused):
        await check_endpoint("http://10.0.0.1/p", allow_loopback=True)
    with pytest.raises(EndpointRefused):
        await check_endpoint("http://127.0.0.1:8080/p")


def test_loopback_flag_is_refused_in_production(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="tests only"):
        Settings(data_dir=tmp_path, mode="production", push_allow_loopback=True)
    Settings(data_dir=tmp_path, mode="development", push_allow_loopback=True)
