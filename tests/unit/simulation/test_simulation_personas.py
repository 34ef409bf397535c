"""Personas behave like their description, and the mix produces the configured shares."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest

from ssi_stream.simulation import DEFAULT_MIX, Population, SimulationConfig, generate


@pytest.fixture(scope="module")
def by_persona(world: Any) -> dict[str, Counter[str]]:
    """Event type counts per persona of the acting member."""
    population = Population(world.config)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for e in world.events:
        counts[population.persona(population.index_of(e["member_id"])).name][e["type"]] += 1
    return counts


@pytest.mark.parametrize("members", [7, 300, 1001])
def test_mix_gives_each_persona_its_share_to_within_one_member(members: int) -> None:
    counts = Population(SimulationConfig(members=members)).persona_counts()
    assert sum(counts.values()) == members
    for name, weight in DEFAULT_MIX.items():
        assert abs(counts[name] - members * weight) < 1


def test_custom_mix_is_normalised_and_leaves_out_unlisted_personas() -> None:
    counts = Population(SimulationConfig(members=400, mix={"spammer": 1, "lurker": 3})).persona_counts()
    assert counts["spammer"] == 100 and counts["lurker"] == 300
    assert sum(v for k, v in counts.items() if k not in ("spammer", "lurker")) == 0


def test_unknown_persona_in_mix_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="genuine_seller"):
        SimulationConfig(mix={"guru": 1.0})


def test_member_ids_are_zero_padded_and_round_trip() -> None:
    population = Population(SimulationConfig(members=1_234_567, mix={"lurker": 1}))
    assert population.member_id(123) == "m0000123"
    assert population.index_of(population.member_id(1_234_566)) == 1_234_566


def test_spammers_get_about_two_percent_accepted_and_sellers_most(world: Any) -> None:
    population = Population(world.config)
    sent: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    for e in world.events:
        if e["type"] == "invite_sent":
            sent[population.persona(population.index_of(e["member_id"])).name] += 1
        elif e["type"] == "invite_accepted":
            accepted[population.persona(population.index_of(e["inviter_member_id"])).name] += 1
    assert 0.005 < accepted["spammer"] / sent["spammer"] < 0.04
    assert accepted["genuine_seller"] / sent["genuine_seller"] > 0.5
    members = population.persona_counts()
    spammer_rate = sent["spammer"] / members["spammer"]
    assert spammer_rate > 10 * sent["genuine_seller"] / members["genuine_seller"]
    assert spammer_rate / world.config.days > 50  # dozens to hundreds of invites per day


def test_lurkers_only_react_view_and_answer(by_persona: dict[str, Counter[str]]) -> None:
    lurker = by_persona["lurker"]
    assert lurker["reaction_added"] > 0
    for never in ("post_published", "comment_posted", "post_shared", "invite_sent", "member_followed"):
        assert lurker[never] == 0


def test_influencers_publish_articles_and_receive_the_most_engagement(world: Any) -> None:
    population = Population(world.config)
    received: Counter[str] = Counter()
    articles = Counter()
    for e in world.events:
        if e["type"] in ("comment_posted", "reaction_added", "post_shared"):
            received[population.persona(population.index_of(e["post_author_id"])).name] += 1
        elif e["type"] == "post_published" and e["format"] == "article":
            articles[population.persona(population.index_of(e["member_id"])).name] += 1
    per_member = {name: received[name] / max(1, n) for name, n in population.persona_counts().items()}
    assert max(per_member, key=per_member.__getitem__) == "influencer"
    assert articles.most_common(1)[0][0] == "influencer"


def test_recruiters_search_people_and_view_profiles_from_search(world: Any) -> None:
    population = Population(world.config)
    people_searches: Counter[str] = Counter()
    search_views: Counter[str] = Counter()
    for e in world.events:
        name = population.persona(population.index_of(e["member_id"])).name
        people_searches[name] += e["type"] == "search_performed" and e["search_kind"] == "people"
        search_views[name] += e["type"] == "profile_viewed" and e["source"] == "search"
    members = population.persona_counts()
    for other in ("genuine_seller", "occasional", "influencer"):
        for counts in (people_searches, search_views):
            assert counts["recruiter"] / members["recruiter"] > 3 * counts[other] / members[other]


def test_recruiter_messages_are_mostly_inmail(world: Any) -> None:
    population = Population(world.config)
    channels = Counter(
        e["channel"]
        for e in world.events
        if e["type"] == "message_sent"
        and not e["is_reply"]
        and population.persona(population.index_of(e["member_id"])).name == "recruiter"
    )
    assert channels["inmail"] > channels["message"]


def test_lapsed_sellers_go_quiet_after_their_lapse_day(world: Any) -> None:
    population = Population(world.config)
    before = after = 0
    start_ordinal = world.config.start.toordinal()
    for e in world.events:
        i = population.index_of(e["member_id"])
        lapse = population.member(i).lapse_day
        if lapse is None or e["type"] not in ("invite_sent", "post_published", "search_performed"):
            continue
        day = date.fromisoformat(e["occurred_at"][:10]).toordinal() - start_ordinal
        if day < lapse - 1:
            before += 1
        elif day > lapse:
            after += 1
    assert after < before / 10


def test_most_members_are_light_users_and_a_small_top_is_very_active(world: Any) -> None:
    per_member = Counter(e["member_id"] for e in world.events)
    volumes = sorted((per_member[Population(world.config).member_id(i)] for i in range(300)), reverse=True)
    top_tenth = sum(volumes[:30])
    assert top_tenth > 0.5 * sum(volumes)
    assert volumes[150] < 5 * world.config.days  # the median member: a handful of events per day at most


def test_500_members_over_four_weeks_give_a_realistic_volume_and_scale_with_the_rate() -> None:
    config = SimulationConfig(members=500, days=28, seed=2)
    full = sum(1 for _ in generate(config))
    half = sum(1 for _ in generate(dataclasses.replace(config, events_per_member_day_scale=0.5)))
    assert 50_000 <= full <= 150_000
    assert 0.4 < half / full < 0.65
