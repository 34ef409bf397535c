"""The outcomes report measures what it says: bands partition the members, windows hold the outcome
events after each score, intervals contain their estimates, a known lift is recovered, volume is told
apart from signal, and on a simulated population the spammers' volume buys no lift."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pytest

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.report import ActivityCounter, ReportOptions, activity_days, measure
from ssi_stream.report.analysis import BANDS, VOLUME_DAYS, band_of
from ssi_stream.report.html import render_html
from ssi_stream.report.inputs import read_activity, read_scores
from ssi_stream.report.scores import ScoreTable, ScoreTableBuilder
from ssi_stream.scoring.model import PILLARS
from ssi_stream.timeline.days import day_from_iso, iso_date

from .conftest import WINDOW, ReportWorld

#: Slow (the report's world, HTML pages and charts): `make test` runs it, `make unit` leaves it out.
pytestmark = pytest.mark.slow

OPTIONS = ReportOptions(window_days=WINDOW, resamples=400, seed=3)


def no_replay() -> Any:
    raise AssertionError("score records need no replay")


@pytest.fixture(scope="module")
def table(report_world: ReportWorld) -> ScoreTable:
    table, summary = read_scores(report_world.record_lines(), replay=no_replay)
    assert summary.kind == "records" and summary.records == len(report_world.record_lines())
    return table


@pytest.fixture(scope="module")
def activity(report_world: ReportWorld) -> ActivityCounter:
    counter = ActivityCounter()
    read_activity(report_world.events.splitlines(), counter)
    return counter


@pytest.fixture(scope="module")
def report(table: ScoreTable, activity: ActivityCounter, report_world: ReportWorld) -> dict[str, Any]:
    options = ReportOptions(window_days=WINDOW, resamples=400, seed=3, groups=report_world.personas)
    return measure(table, options, activity)


def estimates(node: Any) -> Iterator[dict[str, Any]]:
    """Every {value, low, high} in a report."""
    if isinstance(node, dict):
        if set(node) == {"value", "low", "high"}:
            yield node
        else:
            for child in node.values():
                yield from estimates(child)
    elif isinstance(node, list):
        for child in node:
            yield from estimates(child)


def last_records(report_world: ReportWorld, day: int) -> dict[str, dict[str, Any]]:
    """Each member's last record on or before `day`, by brute force."""
    latest: dict[str, dict[str, Any]] = {}
    for line in report_world.record_lines():
        record = orjson.loads(line)
        if day_from_iso(record["date"]) <= day:
            latest[record["member_id"]] = record
    return latest


def test_the_bands_partition_the_members_scored_on_the_anchor_day(
    report: dict[str, Any], table: ScoreTable, report_world: ReportWorld
) -> None:
    anchor = table.last_day - WINDOW
    assert report["anchors"] == [iso_date(anchor)]
    scored = last_records(report_world, anchor)
    assert report["members"] == report["observations"] == len(scored)
    assert sum(band["n"] for band in report["bands"]) == len(scored)
    by_band = Counter(BANDS[int(band_of(np.array([r["ssi"]]))[0])] for r in scored.values())
    assert {band["band"]: band["n"] for band in report["bands"]} == {name: by_band[name] for name in BANDS}
    for pillar in PILLARS:
        assert sum(q["n"] for q in report["pillar_quartiles"][pillar]["quartiles"]) == len(scored)
    assert sum(b["n"] for b in report["ssi_bins"]) == len(scored)


def test_a_window_holds_the_outcome_events_of_the_days_after_the_score(
    report: dict[str, Any], table: ScoreTable, report_world: ReportWorld
) -> None:
    anchor = table.last_day - WINDOW
    scored = last_records(report_world, anchor)
    counted: Counter[str] = Counter()
    per_member: Counter[tuple[str, str]] = Counter()
    for line in report_world.events.splitlines():
        event = orjson.loads(line)
        if event["type"] not in OUTCOME_TYPES or event["member_id"] not in scored:
            continue
        day = (datetime.fromisoformat(event["occurred_at"]).astimezone(UTC).date()).toordinal() - 719163
        if anchor < day <= anchor + WINDOW:
            counted[event["type"]] += 1
            per_member[event["member_id"], event["type"]] += 1
    assert report["outcomes_in_windows"] == {kind: counted[kind] for kind in OUTCOME_TYPES}
    assert counted["meeting_booked"] > 20 and counted["opportunity_created"] > 5
    for band in report["bands"]:
        members = [
            m for m, r in scored.items() if BANDS[int(band_of(np.array([r["ssi"]]))[0])] == band["band"]
        ]
        for kind in OUTCOME_TYPES:
            expected = sum(per_member[m, kind] for m in members) / len(members) if members else None
            assert band["mean"][kind]["value"] == (
                None if expected is None else pytest.approx(expected, abs=1e-6)
            )


def test_every_interval_contains_its_estimate(report: dict[str, Any]) -> None:
    found = list(estimates(report))
    assert len(found) > 300
    for estimate in found:
        if estimate["low"] is not None:
            assert estimate["low"] <= estimate["value"] <= estimate["high"], estimate


def test_the_spammers_volume_buys_no_lift_and_the_sellers_answered_outreach_does(
    report: dict[str, Any],
) -> None:
    groups = {group["group"]: group for group in report["groups"]}
    spammer, seller = groups["spammer"], groups["genuine_seller"]
    volumes = {name: group["mean_volume"]["value"] for name, group in groups.items()}
    assert max(volumes, key=volumes.__getitem__) == "spammer", volumes
    assert spammer["lift"]["value"] <= 0, spammer["lift"]
    assert seller["lift"]["low"] > 0, seller["lift"]
    assert spammer["mean_ssi"]["high"] < seller["mean_ssi"]["low"], "the model does not reward the spam"


def test_the_same_seed_gives_the_same_report_and_another_seed_other_intervals(
    table: ScoreTable, report: dict[str, Any], activity: ActivityCounter, report_world: ReportWorld
) -> None:
    options = ReportOptions(window_days=WINDOW, resamples=400, seed=3, groups=report_world.personas)
    assert measure(table, options, activity) == report
    other = measure(
        table,
        ReportOptions(window_days=WINDOW, resamples=400, seed=4, groups=report_world.personas),
        activity,
    )
    assert other["bands"] != report["bands"]
    assert [b["n"] for b in other["bands"]] == [b["n"] for b in report["bands"]], "only the intervals move"


def test_reading_only_the_days_asked_about_counts_the_same_activity(
    report_world: ReportWorld, table: ScoreTable, activity: ActivityCounter
) -> None:
    days = activity_days(table, OPTIONS)
    assert days == (table.last_day - WINDOW - VOLUME_DAYS + 1, table.last_day - WINDOW)
    some = ActivityCounter()
    read_activity(report_world.events.splitlines(), some, days)
    assert 0 < some.events < activity.events
    members = table.member_ids
    for first, last in ((days[0], days[1]), (days[1], days[1]), (days[0] + 3, days[1] - 2)):
        assert list(some.counts(members, first, last)) == list(activity.counts(members, first, last))
    assert activity.counts(members, *days).sum() > 1000


def test_anchors_every_few_days_observe_each_member_once_per_anchor(table: ScoreTable) -> None:
    options = ReportOptions(window_days=WINDOW, every_days=7, resamples=200)
    pooled = measure(table, options)
    assert len(pooled["anchors"]) == len(range(table.last_day - WINDOW, table.first_day - 1, -7))
    single = [
        measure(table, ReportOptions(window_days=WINDOW, at=day_from_iso(anchor), resamples=200))
        for anchor in pooled["anchors"]
    ]
    assert pooled["observations"] == sum(r["observations"] for r in single)
    assert pooled["members"] == max(r["members"] for r in single)


def test_a_window_the_scores_do_not_cover_is_refused_with_the_dates(table: ScoreTable) -> None:
    with pytest.raises(ValueError, match=f"the scores end on {iso_date(table.last_day)}"):
        measure(table, ReportOptions(window_days=WINDOW, at=table.last_day - WINDOW + 1))
    with pytest.raises(ValueError, match="shorter --window"):
        measure(table, ReportOptions(window_days=200))


# --- synthetic populations with a known answer -------------------------------------------------------

ANCHOR = 20_600


def record(member: int, day: int, ssi: float, totals: dict[str, int], signals: dict[str, Any]) -> dict:
    pillars = dict.fromkeys(PILLARS, round(ssi / 4, 2))
    document: dict[str, Any] = {
        "member_id": f"m{member}",
        "date": iso_date(day),
        "ssi": ssi,
        "pillars": pillars,
    }
    document["signals"] = signals
    if any(totals.values()):
        document["outcomes"] = {kind: {"recent": 0.0, "total": n} for kind, n in totals.items() if n}
    return document


def test_a_known_lift_of_leaders_is_recovered_within_its_interval() -> None:
    rng = np.random.default_rng(7)
    builder = ScoreTableBuilder()
    members = 6000
    ssi = np.where(rng.random(members) < 0.15, rng.uniform(70, 95, members), rng.uniform(0, 69.9, members))
    opportunities = rng.poisson(np.where(ssi >= 70, 1.5, 1.0))
    for m in range(members):
        builder.add(record(m, ANCHOR, float(round(ssi[m], 2)), {}, {}))
        builder.add(record(m, ANCHOR + 30, 0.0, {"opportunity_created": int(opportunities[m])}, {}))
    report = measure(builder.build(), ReportOptions(window_days=30, resamples=500))
    lift = report["lift"]["opportunity_created"]["more"]
    assert lift["low"] < 0.5 < lift["high"], lift
    assert lift["low"] > 0.3, "the interval is tight enough to tell +50% from nothing"
    leaders = report["bands"][2]["mean"]["opportunity_created"]["value"]
    rest_n = report["bands"][0]["n"] + report["bands"][1]["n"]
    rest = sum(b["mean"]["opportunity_created"]["value"] * b["n"] for b in report["bands"][:2]) / rest_n
    assert lift["value"] == pytest.approx(leaders / rest - 1, abs=1e-5)


def test_a_component_that_only_tracks_volume_is_told_from_one_that_carries_signal() -> None:
    """Outcomes rise with activity volume and with quality; `days_active` points follow volume only,
    `acceptance_rate` points follow quality only, `groups` points are noise."""
    rng = np.random.default_rng(11)
    builder, activity = ScoreTableBuilder(), ActivityCounter()
    members = 3000
    volume = rng.poisson(rng.lognormal(2.5, 0.8, members))
    quality = rng.random(members)
    outcomes = rng.poisson(0.05 * np.sqrt(volume) * (0.2 + 2 * quality))
    stamp = f"{iso_date(ANCHOR)}T12:00:00Z"
    for m in range(members):
        signals = {
            "find_right_people": [["days_active", 1, round(6 * (1 - np.exp(-volume[m] / 15)), 2)]],
            "build_relationships": [["acceptance_rate", 0.5, round(4 * quality[m], 2)]],
            "engage_with_insights": [["groups", 1, round(2 * rng.random(), 2)]],
        }
        builder.add(record(m, ANCHOR, 30.0, {}, signals))
        builder.add(record(m, ANCHOR + 30, 30.0, {"meeting_booked": int(outcomes[m])}, signals))
        for n in range(int(volume[m])):
            activity.add(
                {"event_id": f"{m}-{n}", "type": "reaction_added", "member_id": f"m{m}", "occurred_at": stamp}
            )
    options = ReportOptions(window_days=30, outcome="meeting_booked", resamples=300)
    verdicts = {
        c["component"]: c["verdict"] for c in measure(builder.build(), options, activity)["components"]
    }
    assert verdicts["days_active"] == "only volume"
    assert verdicts["acceptance_rate"] == "signal beyond volume"
    assert verdicts["groups"] == "no signal"
    assert verdicts["profile_completeness"] == "no data", "a component no record credits"


def test_the_last_record_of_a_member_and_day_wins_whatever_the_order() -> None:
    builder = ScoreTableBuilder()
    builder.add(record(1, ANCHOR + 1, 40.0, {"deal_won": 2}, {}))
    builder.add(record(1, ANCHOR, 10.0, {}, {}))
    builder.add(record(1, ANCHOR, 20.0, {"deal_won": 1}, {}))  # a later copy of the same day
    table = builder.build()
    assert list(table.day) == [ANCHOR, ANCHOR + 1]
    assert list(table.ssi) == [20.0, 40.0]
    members, rows = table.at(ANCHOR)
    assert list(table.totals[rows][:, OUTCOME_TYPES.index("deal_won")]) == [1]
    assert table.totals_at(members, ANCHOR - 1).sum() == 0


def test_a_component_a_record_leaves_out_earns_at_most_the_third_s_points() -> None:
    from ssi_stream.report.analysis import observe
    from ssi_stream.scoring.columnar import COMPONENT_NAMES

    column = {name: c for c, (_, name) in enumerate(COMPONENT_NAMES)}
    signals = {
        "build_relationships": [
            ["connections", 200, 3.5],
            ["blind_invitations", 80, -2.25],
            ["acceptance_rate", 0.4, 1.25],
        ],
        "engage_with_insights": [["conversations", 4, 1.5], ["unanswered_messages", 9, -0.5]],
    }
    builder = ScoreTableBuilder()
    builder.add(record(1, ANCHOR, 30.0, {}, signals))
    builder.add(record(1, ANCHOR + 10, 30.0, {}, signals))
    observed = observe(builder.build(), ReportOptions(window_days=10))
    shown, at_most = observed.components[0], observed.components_at_most[0]
    assert shown[column["connections"]] == at_most[column["connections"]] == 3.5
    assert shown[column["decision_maker_connections"]] == 0.0
    assert at_most[column["decision_maker_connections"]] == 1.25, "left out of three: at most the third's"
    assert at_most[column["blind_invitations"]] == -2.25
    assert at_most[column["responsiveness"]] == 0.0, "a pillar naming two signals earns nothing else"
    assert at_most[column["profile_completeness"]] == 0.0


def test_the_html_page_is_self_contained_deterministic_and_shows_every_section(
    report: dict[str, Any],
) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 7
    for heading in (
        "by SSI band",
        "The lift of leaders",
        "pillar quartile",
        "Calibration",
        "only volume",
        "Groups",
    ):
        assert heading in page, heading
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    assert 'href="http' not in lowered and "src=" not in lowered and "@import" not in lowered
    assert render_html(report) == page


def test_without_the_event_log_or_groups_the_page_leaves_their_sections_out(table: ScoreTable) -> None:
    bare = measure(table, OPTIONS)
    assert bare["volume"] is None and bare["groups"] is None
    assert all("rho_given_volume" not in c for c in bare["components"])
    assert {c["verdict"] for c in bare["components"]} <= {"signal", "no signal", "inverse", "no data"}
    page = render_html(bare)
    assert page.count("<svg") == 5 and "Groups" not in page and "--events" in page
