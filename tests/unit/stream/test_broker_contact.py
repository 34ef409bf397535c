"""Readiness and the broker: not ready only after every probe failed for SILENT_AFTER_SECONDS."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import NodeNotReadyError

from ssi_stream.stream.broker_contact import SILENT_AFTER_SECONDS, BrokerContact


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeClient:
    """The part of aiokafka's client a probe uses; `answers` says whether the broker is up."""

    def __init__(self) -> None:
        self.answers = True
        self.requests: list[Any] = []

    def get_random_node(self) -> int:
        return 1

    async def send(self, node: int, request: Any) -> object:
        self.requests.append(request)
        if not self.answers:
            raise NodeNotReadyError("Attempt to send a request to node which is not ready (node id 1).")
        return object()


class FakeApp:
    def __init__(self, client: FakeClient) -> None:
        self.producer = SimpleNamespace(_ensure_producer=lambda: SimpleNamespace(client=client))
        self.timers: list[Any] = []

    def timer(self, interval: float, name: str) -> Any:
        def register(function: Any) -> Any:
            self.timers.append((interval, name, function))
            return function

        return register


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def contact(clock: FakeClock, client: FakeClient) -> BrokerContact:
    return BrokerContact(FakeApp(client), "t.events", clock=clock)  # type: ignore[arg-type]


def probe_for(contact: BrokerContact, clock: FakeClock, seconds: float, every: float = 2.0) -> None:
    waited = 0.0
    while waited < seconds:
        asyncio.run(contact.probe())
        clock.now += every
        waited += every


def test_the_probe_is_a_timer_asking_for_the_events_topic(contact: BrokerContact, client: FakeClient) -> None:
    (interval, name, function) = contact.app.timers[0]  # type: ignore[attr-defined]
    assert (interval, name) == (2.0, "probe-broker") and function == contact.probe
    asyncio.run(contact.probe())
    assert client.requests[0]._topics == ["t.events"]
    assert contact.unreachable() is None


def test_failures_shorter_than_the_silence_bound_keep_the_worker_ready(
    contact: BrokerContact, clock: FakeClock, client: FakeClient
) -> None:
    probe_for(contact, clock, 10)
    client.answers = False
    probe_for(contact, clock, SILENT_AFTER_SECONDS - 2)
    assert contact.unreachable() is None


def test_every_probe_failing_for_the_bound_makes_it_unreachable_until_one_is_answered(
    contact: BrokerContact, clock: FakeClock, client: FakeClient
) -> None:
    probe_for(contact, clock, 4)
    client.answers = False
    probe_for(contact, clock, SILENT_AFTER_SECONDS + 2)
    reason = contact.unreachable()
    assert reason is not None and reason.startswith("broker unreachable: no answer for 1")
    client.answers = True
    asyncio.run(contact.probe())
    assert contact.unreachable() is None


def test_a_broker_never_reached_since_start_says_so(
    contact: BrokerContact, clock: FakeClock, client: FakeClient
) -> None:
    client.answers = False
    probe_for(contact, clock, 12)
    assert contact.unreachable() == "broker unreachable: no answer since the worker started 12 s ago"


def test_a_worker_too_busy_to_probe_is_not_called_cut_off(contact: BrokerContact, clock: FakeClock) -> None:
    probe_for(contact, clock, 2)
    clock.now += 120  # a long batch held the event loop: no probe ran, none failed
    assert contact.unreachable() is None


def test_a_producer_not_started_yet_counts_as_a_failed_probe(clock: FakeClock) -> None:
    from faust.exceptions import NotReady

    def not_started() -> Any:
        raise NotReady("Producer service not yet started")

    app = FakeApp(FakeClient())
    app.producer = SimpleNamespace(_ensure_producer=not_started)
    contact = BrokerContact(app, "t.events", clock=clock)  # type: ignore[arg-type]
    probe_for(contact, clock, 12)
    assert contact.unreachable() is not None
