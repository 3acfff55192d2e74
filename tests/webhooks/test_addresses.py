"""SSRF: only http(s) URLs resolving to public addresses, checked on save and at delivery."""

import ipaddress

import pytest

from tests.factories import UserFactory
from tests.webhooks.conftest import emit
from webhooks import addresses, errors
from webhooks.addresses import EndpointRefused, address_refusal, endpoint_resolve
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Delivery, DeliveryStatus, Subscriber


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",  # private
        "172.16.0.1",  # private
        "192.168.1.1",  # private
        "127.0.0.1",  # loopback
        "169.254.169.254",  # link-local: cloud metadata
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "0.0.0.0",  # unspecified
        "100.64.0.1",  # carrier-grade NAT: not global
        "::1",  # loopback
        "fc00::1",  # unique local
        "fe80::1",  # link-local
        "ff02::1",  # multicast
        "::ffff:10.0.0.1",  # IPv4-mapped private
    ],
)
def test_non_public_addresses_are_refused(address):
    refusal = address_refusal(ipaddress.ip_address(address))

    assert refusal is not None
    assert refusal.startswith("The host resolves to a private, loopback")


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/", errors.URL_SCHEME),
        ("file:///etc/passwd", errors.URL_SCHEME),
        ("gopher://127.0.0.1:6379/_FLUSHALL", errors.URL_SCHEME),
        ("https://user:pass@hooks.example.com/", errors.URL_CREDENTIALS),
        ("https:///nohost", errors.URL_HOST_MISSING),
        ("https://hooks.example.com:99999/", errors.URL_HOST_MISSING),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url, message):
    with pytest.raises(
        EndpointRefused, match="^" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        endpoint_resolve(url)


def test_a_name_resolving_to_any_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    public, private = ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.7")
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: [public, private])

    with pytest.raises(EndpointRefused, match=r"10\.0\.0\.7"):
        endpoint_resolve("https://hooks.example.com/")


@pytest.mark.django_db
def test_admin_refuses_a_private_endpoint_with_a_clear_error(settings, client, privacy_officer):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(privacy_officer)

    response = client.post(
        "/admin/webhooks/subscriber/add/",
        {
            "name": "metadata",
            "url": "http://169.254.169.254/latest",
            "event_types": ["consent.decided"],
            "status": "active",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        errors.URL_PRIVATE_ADDRESS.format(address="169.254.169.254")
    ]
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_delivery_rechecks_the_address_and_sends_nothing_to_a_private_one(subscribed, settings):
    _, _, receiver = subscribed()  # registered while private addresses were allowed
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    emit(UserFactory())

    webhooks_dispatch()

    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED
    assert failed.last_error.startswith("Not sent: " + errors.URL_PRIVATE_ADDRESS.split("(")[0])
    assert receiver.requests == []


@pytest.mark.django_db
def test_delivery_connects_to_the_checked_address_with_the_urls_host_name(subscribed, monkeypatch):
    subscriber, _, receiver = subscribed()
    port = receiver.url.split(":")[2].split("/")[0]
    Subscriber.objects.filter(pk=subscriber.pk).update(
        url=f"http://hooks.example.test:{port}/hooks"
    )
    checked = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: [checked])
    emit(UserFactory())

    webhooks_dispatch()

    # The name does not resolve anywhere: the request reached the one address checked.
    [(headers, _)] = receiver.requests
    assert headers["Host"] == f"hooks.example.test:{port}"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
