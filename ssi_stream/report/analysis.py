"""Does the score predict selling? Outcomes in a window after each score, by band, quartile and component.

An *observation* is a member scored on an anchor day: their SSI, pillars and component points that day
(their last record on or before it) and the outcomes they logged in the `window_days` after it (the
difference of their outcome totals). With one anchor every member is observed once; with several
(`every_days`) a member is observed once per anchor, and the bootstrap resamples members, not
observations, so a member's observations stay together.

Every figure is a ratio of sums over observations (a mean, a share, a lift, a rank correlation from
its moments), so the bootstrap is one matrix product: resample weights (members drawn with
replacement) times each member's sums. Intervals are percentile intervals (2.5 %, 97.5 %). Pure: numpy
in, a JSON-able dict out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.report.scores import ScoreTable
from ssi_stream.scoring.columnar import COMPONENT_NAMES
from ssi_stream.scoring.model import PILLARS
from ssi_stream.timeline.days import iso_date

#: LinkedIn's bands: 0-20, 21-69, 70+ (an SSI above 20 and below 70 is in the middle one).
BANDS: tuple[str, ...] = ("0-20", "21-69", "70+")
#: What LinkedIn says of members in the top band, to compare the measured lifts with.
LINKEDIN_CLAIMS = {"opportunity_created": 0.45}
#: Own activity counted as a member's volume: the days up to and including the anchor.
VOLUME_DAYS = 28
#: SSI bins of the calibration curve: [0, 10), [10, 20), ..., [90, 100].
SSI_BINS = tuple(range(0, 100, 10))
VOLUME_BINS = 10
LOW, HIGH = 2.5, 97.5
#: Fewer observations than this in a group: its estimate is given without an interval (the bootstrap
#: of a handful says nothing about how far the estimate could be off).
MIN_FOR_INTERVAL = 10
_CHUNK = 50  # resamples weighed at once: 50 × members float64


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What to measure: the window after each score, the anchors, the outcome the headline uses."""

    window_days: int = 90
    #: The (last) anchor day; None: the last day with a whole window after it.
    at: int | None = None
    #: Also anchor every this many days before `at`, back to the first scored day; None: `at` only.
    every_days: int | None = None
    #: The outcome of the lift's headline and of the calibration view.
    outcome: str = "opportunity_created"
    resamples: int = 1000
    seed: int = 0
    #: member id -> a group name (a team, a region, the simulator's personas), optional.
    groups: Mapping[str, str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"the window must be at least 1 day, got {self.window_days}")
        if self.every_days is not None and self.every_days < 1:
            raise ValueError(f"anchors must be at least 1 day apart, got {self.every_days}")
        if self.outcome not in OUTCOME_TYPES:
            raise ValueError(f"{self.outcome!r} is not an outcome type ({', '.join(OUTCOME_TYPES)})")
        if self.resamples < 100:
            raise ValueError(f"at least 100 bootstrap resamples, got {self.resamples}")


@dataclass(frozen=True, slots=True)
class Observations:
    """One row per (member, anchor): the score that day and the outcomes of the window after it."""

    member: np.ndarray  # int: index into the table's member ids
    anchor: np.ndarray  # int: day
    ssi: np.ndarray
    pillars: np.ndarray  # (n, 4)
    components: np.ndarray  # (n, 20)
    #: (n, 20): each component's points, or when its record left it out the most it can have earned
    components_at_most: np.ndarray
    outcomes: np.ndarray  # (n, 5): logged in (anchor, anchor + window]
    #: Own activity events in the `VOLUME_DAYS` up to the anchor; None without the event log.
    volume: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.member)


def anchors(table: ScoreTable, options: ReportOptions) -> list[int]:
    """The anchor days, oldest first; ValueError when the scores do not leave a whole window."""
    last = table.last_day - options.window_days
    at = last if options.at is None else options.at
    if at > last:
        raise ValueError(
            f"the scores end on {iso_date(table.last_day)}: a {options.window_days}-day window after "
            f"{iso_date(at)} needs scores until {iso_date(at + options.window_days)}"
            f" (the latest possible anchor is {iso_date(last)})"
        )
    if at < table.first_day:
        raise ValueError(
            f"the scores span {iso_date(table.first_day)} to {iso_date(table.last_day)}: no day before "
            f"{iso_date(at + 1)} is scored, so no score has a {options.window_days}-day window after it"
            " (choose a shorter --window or a later --at)"
        )
    if options.every_days is None:
        return [at]
    return list(range(at, table.first_day - 1, -options.every_days))[::-1]


def observe(
    table: ScoreTable, options: ReportOptions, activity: Callable[[np.ndarray, int], np.ndarray] | None = None
) -> Observations:
    """Every member scored on each anchor day, with the outcomes of the window after it.
    `activity(members, day)` gives their own events in the `VOLUME_DAYS` up to `day` (optional)."""
    parts: list[tuple[np.ndarray, ...]] = []
    for anchor in anchors(table, options):
        members, rows = table.at(anchor)
        later = table.totals_at(members, anchor + options.window_days)
        outcomes = later - table.totals[rows]
        volume = activity(members, anchor) if activity is not None else np.zeros(len(members))
        parts.append(
            (
                members,
                np.full(len(members), anchor),
                table.ssi[rows],
                table.pillars[rows],
                table.components[rows],
                _at_most(table.components[rows], table.left_out_at_most[rows]),
                outcomes,
                volume,
            )
        )
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return Observations(*columns[:7], volume=columns[7] if activity is not None else None)  # type: ignore[misc]


#: Each component's pillar, as a column index into PILLARS.
_PILLAR_OF = np.array([PILLARS.index(pillar) for pillar, _ in COMPONENT_NAMES])


def _at_most(components: np.ndarray, left_out: np.ndarray) -> np.ndarray:
    """Each component's points, or where its record left it out the most it can earn (a penalty, whose
    points the records show below 0: the most it can cost)."""
    sign = np.where(components.sum(axis=0) < 0, -1.0, 1.0)
    return np.where(components != 0, components, left_out[:, _PILLAR_OF] * sign)


def band_of(ssi: np.ndarray) -> np.ndarray:
    """0, 1, 2 for LinkedIn's bands 0-20, 21-69, 70+."""
    return np.where(ssi <= 20, 0, np.where(ssi < 70, 1, 2))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (as Spearman's correlation wants them)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    average = (starts + ends + 1) / 2.0  # ranks from 1: (start+1 + end) / 2
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


class _Sums:
    """Columns of per-observation quantities; every figure is a function of their sums."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._columns: list[np.ndarray] = []
        self._index: dict[str, int] = {}

    def add(self, name: str, values: np.ndarray | float) -> int:
        index = self._index.get(name)
        if index is None:
            index = self._index[name] = len(self._columns)
            self._columns.append(np.broadcast_to(np.asarray(values, np.float64), (self.n,)))
        return index

    def matrix(self) -> np.ndarray:
        return np.column_stack(self._columns) if self._columns else np.zeros((self.n, 0))


class _Bootstrap:
    """Point and resampled sums of every column: resampling members with replacement."""

    def __init__(self, clusters: np.ndarray, resamples: int, seed: int) -> None:
        self.labels, self.cluster = np.unique(clusters, return_inverse=True)
        self.resamples = resamples
        self.seed = seed

    def sums(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the sums over every observation, (resamples, columns) sums over each resample)."""
        order = np.argsort(self.cluster, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(self.cluster[order]) != 0])
        per_member = np.add.reduceat(columns[order], starts, axis=0)
        point = per_member.sum(axis=0)
        rng = np.random.default_rng(self.seed)
        members = len(self.labels)
        chunks = []
        for start in range(0, self.resamples, _CHUNK):
            size = min(_CHUNK, self.resamples - start)
            draws = rng.integers(0, members, size=(size, members)) + (np.arange(size) * members)[:, None]
            weights = np.bincount(draws.ravel(), minlength=size * members).reshape(size, members)
            chunks.append(weights.astype(np.float64) @ per_member)
        return point, np.concatenate(chunks)


@dataclass(frozen=True, slots=True)
class _Figures:
    """Evaluates statistics (functions of a sums vector) on the point sums and on every resample."""

    point: np.ndarray
    resampled: np.ndarray

    def estimate(
        self, statistic: Callable[[np.ndarray], np.ndarray | float], smallest: float = np.inf
    ) -> dict[str, float | None]:
        """The statistic and its interval; none when the smallest group it compares has fewer than
        `MIN_FOR_INTERVAL` observations, or when most resamples leave it undefined."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(statistic(self.point))
            draws = np.asarray(statistic(self.resampled.T), np.float64)
        finite = draws[np.isfinite(draws)]
        if not np.isfinite(value) or len(finite) < len(draws) / 2 or smallest < MIN_FOR_INTERVAL:
            return {"value": _number(value), "low": None, "high": None}
        low, high = np.percentile(finite, [LOW, HIGH])
        return {"value": _number(value), "low": _number(low), "high": _number(high)}


def _number(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def analyse(observations: Observations, member_ids: Sequence[str], options: ReportOptions) -> dict:
    """Every figure of the report, as plain JSON values (see docs/outcomes.md for what each means)."""
    obs = observations
    n = len(obs)
    if n == 0:
        raise ValueError("no member was scored on the anchor day")
    primary = OUTCOME_TYPES.index(options.outcome)
    sums = _Sums(n)
    count = sums.add("n", 1.0)

    def group_columns(prefix: str, member_of: np.ndarray, groups: int) -> list[dict[str, int]]:
        """Per group: its count and, per outcome, the sum and the number with at least one."""
        out = []
        for g in range(groups):
            inside = (member_of == g).astype(float)
            entry = {"n": sums.add(f"{prefix}{g}:n", inside)}
            for k, kind in enumerate(OUTCOME_TYPES):
                entry[f"y:{kind}"] = sums.add(f"{prefix}{g}:y:{kind}", inside * obs.outcomes[:, k])
                entry[f"any:{kind}"] = sums.add(f"{prefix}{g}:any:{kind}", inside * (obs.outcomes[:, k] > 0))
            out.append(entry)
        return out

    bands = band_of(obs.ssi)
    band_cols = group_columns("band", bands, len(BANDS))
    quartile_edges, quartile_cols = [], []
    for p, pillar in enumerate(PILLARS):
        edges = np.quantile(obs.pillars[:, p], [0.25, 0.5, 0.75])
        quartile_edges.append(edges)
        quartile_cols.append(group_columns(f"q:{pillar}:", np.searchsorted(edges, obs.pillars[:, p]), 4))
    ssi_bin = np.minimum(obs.ssi // 10, 9).astype(int)
    decile_cols = group_columns("ssi", ssi_bin, len(SSI_BINS))

    # rank correlations with the primary outcome: moments of ranks, per predictor
    y_rank = average_ranks(obs.outcomes[:, primary])
    ry, ryy = sums.add("ry", y_rank), sums.add("ryy", y_rank**2)
    predictors: dict[str, np.ndarray] = {"ssi": obs.ssi}
    predictors |= {pillar: obs.pillars[:, p] for p, pillar in enumerate(PILLARS)}
    predictors |= {name: obs.components[:, c] for c, (_, name) in enumerate(COMPONENT_NAMES)}
    z_rank = None if obs.volume is None else average_ranks(obs.volume)
    if z_rank is not None:
        rz, rzz, ryz = sums.add("rz", z_rank), sums.add("rzz", z_rank**2), sums.add("ryz", y_rank * z_rank)
    moments = {}
    for name, values in predictors.items():
        x_rank = average_ranks(values)
        entry = {
            "x": sums.add(f"rx:{name}", x_rank),
            "xx": sums.add(f"rxx:{name}", x_rank**2),
            "xy": sums.add(f"rxy:{name}", x_rank * y_rank),
        }
        if z_rank is not None:
            entry["xz"] = sums.add(f"rxz:{name}", x_rank * z_rank)
        moments[name] = entry
    volume_cols: list[dict[str, int]] = []
    volume_edges = None
    if obs.volume is not None:
        volume_edges = np.quantile(obs.volume, np.linspace(0, 1, VOLUME_BINS + 1)[1:-1])
        volume_cols = group_columns("vol", np.searchsorted(volume_edges, obs.volume), VOLUME_BINS)
    group_names: list[str] = []
    group_cols: list[dict[str, int]] = []
    if options.groups is not None:
        labels = [options.groups.get(member_ids[m]) for m in obs.member]
        group_names = sorted({label for label in labels if label is not None})
        index = {name: g for g, name in enumerate(group_names)}
        member_group = np.array([index.get(label, -1) if label else -1 for label in labels])
        group_cols = group_columns("group", member_group, len(group_names))
        for g in range(len(group_names)):
            inside = (member_group == g).astype(float)
            group_cols[g]["ssi"] = sums.add(f"group{g}:ssi", inside * obs.ssi)
            group_cols[g]["leaders"] = sums.add(f"group{g}:leaders", inside * (bands == 2))
            if obs.volume is not None:
                group_cols[g]["volume"] = sums.add(f"group{g}:volume", inside * obs.volume)
    point, resampled = _Bootstrap(obs.member, options.resamples, options.seed).sums(sums.matrix())
    figures = _Figures(point, resampled)

    def ratio(top: int, bottom: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda s: s[top] / s[bottom]

    def size(entries: list[dict[str, int]]) -> float:
        return float(sum(point[entry["n"]] for entry in entries))

    def group_table(columns: list[dict[str, int]]) -> list[dict]:
        rows = []
        for entry in columns:
            n = point[entry["n"]]
            row: dict = {"n": int(n)}
            row["mean"] = {
                kind: figures.estimate(ratio(entry[f"y:{kind}"], entry["n"]), n) for kind in OUTCOME_TYPES
            }
            row["share_with_any"] = {
                kind: figures.estimate(ratio(entry[f"any:{kind}"], entry["n"]), n) for kind in OUTCOME_TYPES
            }
            rows.append(row)
        return rows

    def lift(inside: list[dict[str, int]], outside: list[dict[str, int]], key: str) -> Callable:
        def statistic(s: np.ndarray) -> np.ndarray:
            top = sum(s[e[key]] for e in inside) / sum(s[e["n"]] for e in inside)
            rest = sum(s[e[key]] for e in outside) / sum(s[e["n"]] for e in outside)
            return top / rest - 1.0

        return statistic

    leaders, rest = band_cols[2:], band_cols[:2]

    def spearman(name: str, partial: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        m = moments[name]

        def correlation(s: np.ndarray, a: int, aa: int, b: int, bb: int, ab: int) -> np.ndarray:
            k = s[count]
            cov = s[ab] - s[a] * s[b] / k
            return cov / np.sqrt((s[aa] - s[a] ** 2 / k) * (s[bb] - s[b] ** 2 / k))

        def statistic(s: np.ndarray) -> np.ndarray:
            r_xy = correlation(s, m["x"], m["xx"], ry, ryy, m["xy"])
            if not partial:
                return r_xy
            r_xz = correlation(s, m["x"], m["xx"], rz, rzz, m["xz"])
            r_yz = correlation(s, ry, ryy, rz, rzz, ryz)
            return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz**2) * (1 - r_yz**2))

        return statistic

    mean_ssi = float(obs.ssi.mean())
    components = []
    for c, (pillar, name) in enumerate(COMPONENT_NAMES):
        rho = figures.estimate(spearman(name))
        entry = {
            "component": name,
            "pillar": pillar,
            "mean_points": _number(obs.components[:, c].mean()),
            "share_of_ssi": _number(obs.components[:, c].mean() / mean_ssi) if mean_ssi else None,
            "share_of_ssi_at_most": _number(obs.components_at_most[:, c].mean() / mean_ssi)
            if mean_ssi
            else None,
            "credited_share": _number((obs.components[:, c] != 0).mean()),
            "rho": rho,
        }
        if z_rank is not None:
            entry["rho_given_volume"] = figures.estimate(spearman(name, partial=True))
            entry["rho_with_volume"] = figures.estimate(
                lambda s, m=moments[name]: (
                    (s[m["xz"]] - s[m["x"]] * s[rz] / s[count])
                    / np.sqrt((s[m["xx"]] - s[m["x"]] ** 2 / s[count]) * (s[rzz] - s[rz] ** 2 / s[count]))
                )
            )
        entry["verdict"] = _verdict(entry)
        components.append(entry)

    report: dict = {
        "schema": "ssi-stream outcomes report, version 1",
        "window_days": options.window_days,
        "anchors": [iso_date(int(day)) for day in np.unique(obs.anchor)],
        "outcome": options.outcome,
        "members": len(np.unique(obs.member)),
        "observations": n,
        "resamples": options.resamples,
        "seed": options.seed,
        "outcomes_in_windows": {kind: int(obs.outcomes[:, k].sum()) for k, kind in enumerate(OUTCOME_TYPES)},
        "bands": [{"band": name} | row for name, row in zip(BANDS, group_table(band_cols), strict=True)],
        "lift": {
            kind: {
                "more": figures.estimate(lift(leaders, rest, f"y:{kind}"), min(size(leaders), size(rest))),
                "likelier": figures.estimate(
                    lift(leaders, rest, f"any:{kind}"), min(size(leaders), size(rest))
                ),
                "linkedin_says": LINKEDIN_CLAIMS.get(kind),
            }
            for kind in OUTCOME_TYPES
        },
        "pillar_quartiles": {
            pillar: {
                "edges": [round(float(edge), 4) for edge in quartile_edges[p]],
                "quartiles": group_table(quartile_cols[p]),
                "top_over_bottom": figures.estimate(
                    lift(quartile_cols[p][3:], quartile_cols[p][:1], f"y:{options.outcome}"),
                    min(size(quartile_cols[p][3:]), size(quartile_cols[p][:1])),
                ),
            }
            for p, pillar in enumerate(PILLARS)
        },
        "ssi_bins": [
            {"from": start, "to": start + 10} | row
            for start, row in zip(SSI_BINS, group_table(decile_cols), strict=True)
        ],
        "predictors": {
            name: {"rho": figures.estimate(spearman(name))}
            | (
                {"rho_given_volume": figures.estimate(spearman(name, partial=True))}
                if z_rank is not None
                else {}
            )
            for name in ("ssi", *PILLARS)
        },
        "components": components,
        "volume": None,
        "groups": None,
    }
    if obs.volume is not None and volume_edges is not None:
        report["volume"] = {
            "days": VOLUME_DAYS,
            "edges": [round(float(edge), 4) for edge in volume_edges],
            "deciles": group_table(volume_cols),
            "rho": {
                kind: _number(_pearson(z_rank, average_ranks(obs.outcomes[:, k])))
                for k, kind in enumerate(OUTCOME_TYPES)
            },
        }
    if options.groups is not None:
        rows = []
        for name, entry, table_row in zip(group_names, group_cols, group_table(group_cols), strict=True):
            others = [e for e in group_cols if e is not entry]
            row = {"group": name} | table_row
            n = size([entry])
            row["mean_ssi"] = figures.estimate(ratio(entry["ssi"], entry["n"]), n)
            row["share_leaders"] = figures.estimate(ratio(entry["leaders"], entry["n"]), n)
            if "volume" in entry:
                row["mean_volume"] = figures.estimate(ratio(entry["volume"], entry["n"]), n)
            row["lift"] = (
                figures.estimate(lift([entry], others, f"y:{options.outcome}"), min(n, size(others)))
                if others
                else None
            )
            rows.append(row)
        report["groups"] = rows
    return report


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation; NaN when either side is constant."""
    a, b = a - a.mean(), b - b.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _verdict(entry: dict) -> str:
    """What a component's rank correlations say: whether its points go with outcomes, and whether that
    survives holding the member's activity volume fixed."""
    rho = entry["rho"]
    if rho["low"] is None:
        return "no data"
    if rho["high"] < 0:
        return "inverse"
    if rho["low"] <= 0:
        return "no signal"
    given = entry.get("rho_given_volume")
    if given is None:
        return "signal"
    if given["low"] is not None and given["low"] > 0:
        return "signal beyond volume"
    return "only volume"
