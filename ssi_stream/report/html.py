"""The report's figures as one self-contained HTML page: tables, and plots drawn by matplotlib as inline SVG.

No script, no stylesheet or font from elsewhere: the page opens offline and prints as it shows. The SVG
keeps text as text (`svg.fonttype: none`) and carries no date, so the same report gives the same bytes.
matplotlib is the optional extra `report` (`pip install 'ssi-stream[report]'`); everything else of the
report works without it.
"""

from __future__ import annotations

import html
import io
from typing import Any

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.report.analysis import BANDS, MIN_FOR_INTERVAL
from ssi_stream.scoring.model import PILLARS

#: Colours of the three bands, and of the verdicts in the calibration view.
BAND_COLOURS = ("#9aa5b1", "#4f7cac", "#d1495b")
VERDICT_COLOURS = {
    "signal beyond volume": "#2a9d8f",
    "signal": "#2a9d8f",
    "only volume": "#e9a03b",
    "no signal": "#9aa5b1",
    "inverse": "#d1495b",
    "no data": "#d0d0d0",
}
_LABELS = {
    "meeting_booked": "meetings",
    "opportunity_created": "opportunities",
    "deal_won": "deals won",
    "deal_lost": "deals lost",
    "call_logged": "calls",
}


class PlottingUnavailable(RuntimeError):
    """matplotlib is not installed: the HTML report needs the `report` extra."""


def render_html(report: dict[str, Any], *, title: str = "Does the score predict selling?") -> str:
    """The whole page for `analysis.analyse`'s `report`."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlottingUnavailable(
            "the HTML report draws its plots with matplotlib: pip install 'ssi-stream[report]'"
        ) from None
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "ssi-stream-report",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    outcome = report["outcome"]
    label = _LABELS[outcome]
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        _summary(report),
        "<h2>Outcomes by SSI band</h2>",
        f"<p>Outcomes per member in the {report['window_days']} days after their score, by LinkedIn's "
        "bands. Bars are means, whiskers 95% bootstrap intervals (members resampled).</p>",
        _svg(_bands_figure(Figure, report)),
        _bands_table(report),
        "<h2>The lift of leaders (70+) over the rest</h2>",
        "<p>How many more outcomes members scoring 70 or more logged than everyone else, as LinkedIn "
        "states it (“45% more opportunities”), and how much likelier they were to log at least one.</p>",
        _svg(_lift_figure(Figure, report)),
        _lift_table(report),
        f"<h2>{label.capitalize()} by pillar quartile</h2>",
        "<p>Members split into quarters by each pillar's points (ties at a quartile's edge go to the "
        "lower quarter, so a quarter can hold more or fewer than a fourth).</p>",
        _svg(_quartiles_figure(Figure, report)),
        "<h2>Calibration: the score against outcomes</h2>",
        f"<p>Mean {label} per member by SSI, in bins of 10 points (bars: members in each bin).</p>",
        _svg(_calibration_figure(Figure, report)),
        "<h2>Which components carry the signal, and which are only volume</h2>",
        _components_intro(report),
        _svg(_components_figure(Figure, report)),
        _components_table(report),
    ]
    if report.get("volume"):
        sections += [
            "<h2>Volume</h2>",
            f"<p>Mean {label} per member by decile of their own activity (events they sent, of every "
            f"kind, in the {report['volume']['days']} days up to their score).</p>",
            _svg(_volume_figure(Figure, report)),
        ]
    if report.get("groups"):
        sections += ["<h2>Groups</h2>", _svg(_groups_figure(Figure, report)), _groups_table(report)]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:90%}"
    "th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "figure{margin:0}svg{max-width:100%;height:auto}.muted{color:#777}"
)


def _svg(figure: Any) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    return "<figure>" + text[text.index("<svg") :] + "</figure>"


def _value(estimate: dict | None, *, percent: bool = False, signed: bool = False, digits: int = 2) -> str:
    """An estimate and its interval for a table: `12.34 [10.01…14.50]`, or `+45% [+30%…+61%]`."""
    if estimate is None or estimate.get("value") is None:
        return "–"
    scale, unit = (100, "%") if percent else (1, "")
    form = f"{'+' if signed else ''}.{digits}f"

    def show(number: float) -> str:
        return f"{number * scale:{form}}{unit}"

    text = show(estimate["value"])
    if estimate.get("low") is not None:
        text += f" <span class=muted>[{show(estimate['low'])}…{show(estimate['high'])}]</span>"
    return text


def _errors(estimates: list[dict]) -> tuple[list[float], list[list[float]]]:
    """Bar heights and matplotlib's asymmetric error bars (0 where an interval is unknown)."""
    values = [e["value"] if e["value"] is not None else 0.0 for e in estimates]
    below = [
        v - e["low"] if e.get("low") is not None else 0.0 for v, e in zip(values, estimates, strict=True)
    ]
    above = [
        e["high"] - v if e.get("high") is not None else 0.0 for v, e in zip(values, estimates, strict=True)
    ]
    return values, [[max(0.0, b) for b in below], [max(0.0, a) for a in above]]


def _summary(report: dict) -> str:
    lift = report["lift"][report["outcome"]]["more"]
    label = _LABELS[report["outcome"]]
    anchors = report["anchors"]
    when = anchors[0] if len(anchors) == 1 else f"{len(anchors)} days from {anchors[0]} to {anchors[-1]}"
    totals = ", ".join(f"{count:,} {_LABELS[kind]}" for kind, count in report["outcomes_in_windows"].items())
    leaders = report["bands"][2]["n"]
    few = (
        f" Only {leaders:,} of them scored 70 or more: too few for intervals on the leaders."
        if leaders < MIN_FOR_INTERVAL
        else f" {leaders:,} of them scored 70 or more."
    )
    return (
        f"<p>{report['members']:,} members scored on {html.escape(when)} ({report['observations']:,} "
        f"scores), and what they logged in the {report['window_days']} days after: {totals}. "
        f"Leaders (70+) logged <b>{_value(lift, percent=True, signed=True, digits=0)}</b> {label} "
        "compared with everyone else; "
        f"LinkedIn says +45%.{few} {report['resamples']:,} bootstrap resamples (seed {report['seed']}).</p>"
    )


def _bands_figure(Figure: Any, report: dict) -> Any:
    figure = Figure(figsize=(10, 2.6))
    axes = figure.subplots(1, len(OUTCOME_TYPES))
    for ax, kind in zip(axes, OUTCOME_TYPES, strict=True):
        values, errors = _errors([band["mean"][kind] for band in report["bands"]])
        ax.bar(BANDS, values, yerr=errors, color=BAND_COLOURS, capsize=3)
        ax.set_title(_LABELS[kind])
    axes[0].set_ylabel("per member")
    return figure


def _bands_table(report: dict) -> str:
    head = "".join(f"<th>{_LABELS[kind]}</th>" for kind in OUTCOME_TYPES)
    rows = "".join(
        f"<tr><td>{band['band']}</td><td>{band['n']:,}</td>"
        + "".join(f"<td>{_value(band['mean'][kind])}</td>" for kind in OUTCOME_TYPES)
        + "</tr>"
        for band in report["bands"]
    )
    return f"<table><tr><th>band</th><th>members</th>{head}</tr>{rows}</table>"


def _lift_figure(Figure: Any, report: dict) -> Any:
    figure = Figure(figsize=(7, 2.6))
    ax = figure.subplots()
    estimates = [report["lift"][kind]["more"] for kind in OUTCOME_TYPES]
    values, errors = _errors(estimates)
    labels = [_LABELS[kind] for kind in OUTCOME_TYPES]
    ax.barh(labels, [100 * v for v in values], xerr=[[100 * e for e in side] for side in errors],
            color=BAND_COLOURS[2], capsize=3)  # fmt: skip
    ax.axvline(0, color="#444", linewidth=0.8)
    claim = report["lift"][report["outcome"]]["linkedin_says"]
    if claim is not None:
        ax.axvline(100 * claim, color="#444", linestyle="--", linewidth=0.8)
        ax.annotate(f"LinkedIn: +{100 * claim:.0f}% opportunities", (100 * claim, 1.0),
                    xycoords=("data", "axes fraction"), fontsize=8, ha="left", va="bottom")  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel("leaders (70+) compared with the rest, %")
    return figure


def _lift_table(report: dict) -> str:
    rows = "".join(
        f"<tr><td>{_LABELS[kind]}</td><td>{_value(entry['more'], percent=True, signed=True, digits=0)}</td>"
        f"<td>{_value(entry['likelier'], percent=True, signed=True, digits=0)}</td>"
        f"<td>{_claim(entry['linkedin_says'])}</td></tr>"
        for kind, entry in report["lift"].items()
    )
    return (
        "<table><tr><th>outcome</th><th>more per member</th><th>likelier to log one</th>"
        f"<th>LinkedIn says</th></tr>{rows}</table>"
    )


def _claim(share: float | None) -> str:
    return "–" if share is None else f"+{100 * share:.0f}%"


def _quartiles_figure(Figure: Any, report: dict) -> Any:
    outcome = report["outcome"]
    figure = Figure(figsize=(10, 2.6))
    axes = figure.subplots(1, len(PILLARS), sharey=True)
    for ax, pillar in zip(axes, PILLARS, strict=True):
        entry = report["pillar_quartiles"][pillar]
        values, errors = _errors([q["mean"][outcome] for q in entry["quartiles"]])
        ax.bar(["Q1", "Q2", "Q3", "Q4"], values, yerr=errors, color="#4f7cac", capsize=3)
        ax.set_title(pillar.replace("_", " "))
    axes[0].set_ylabel(f"{_LABELS[outcome]} per member")
    return figure


def _calibration_figure(Figure: Any, report: dict) -> Any:
    outcome = report["outcome"]
    figure = Figure(figsize=(7, 3))
    ax = figure.subplots()
    bins = report["ssi_bins"]
    centres = [b["from"] + 5 for b in bins]
    counts = ax.twinx()
    counts.bar(centres, [b["n"] for b in bins], width=9, color="#e6e9ed", zorder=0)
    counts.set_ylabel("members")
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    shown = [(c, b["mean"][outcome]) for c, b in zip(centres, bins, strict=True) if b["n"]]
    values, errors = _errors([e for _, e in shown])
    ax.errorbar([c for c, _ in shown], values, yerr=errors, marker="o", color="#d1495b", capsize=3)
    for edge in (20, 70):
        ax.axvline(edge, color="#444", linestyle=":", linewidth=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("SSI on the day of the score")
    ax.set_ylabel(f"{_LABELS[outcome]} per member")
    return figure


def _components_intro(report: dict) -> str:
    label = _LABELS[report["outcome"]]
    volume = (
        " The open circle is the same correlation holding the member's activity volume fixed (partial"
        " correlation): a component whose correlation falls to zero there rewards <i>only volume</i>."
        if report.get("volume")
        else " Give the event log (<code>--events</code>) to tell signal from mere volume."
    )
    return (
        "<p>Each component of the model: how much of the SSI it hands out (x) against the rank correlation"
        f" (Spearman) of its points with the {label} of the window after (y), with its 95% interval."
        " Components at the bottom right reward what does not go with outcomes; at the top left, what"
        " goes with them but earns few points. A component outside its pillar's top three signals in a"
        " record counts 0 there (in brackets: its share if each time it had earned as much as the third)."
        f"{volume}</p>"
    )


def _components_figure(Figure: Any, report: dict) -> Any:
    figure = Figure(figsize=(9, 5))
    ax = figure.subplots()
    placed: list[tuple[float, float, float]] = []  # labels drawn: from x, to x, at y
    shown = [entry for entry in report["components"] if entry["rho"]["value"] is not None]
    xs = [100 * (entry["share_of_ssi"] or 0.0) for entry in shown]
    ys = [entry["rho"]["value"] for entry in shown]
    x_span = (max(xs) - min(xs)) or 1.0 if xs else 1.0
    y_span = (max(ys) - min(ys)) or 1.0 if ys else 1.0
    for entry in sorted(shown, key=lambda entry: -entry["rho"]["value"]):
        rho = entry["rho"]
        x = 100 * (entry["share_of_ssi"] or 0.0)
        colour = VERDICT_COLOURS[entry["verdict"]]
        low = rho["value"] - (rho["low"] if rho["low"] is not None else rho["value"])
        high = (rho["high"] if rho["high"] is not None else rho["value"]) - rho["value"]
        ax.errorbar([x], [rho["value"]], yerr=[[low], [high]], marker="o", color=colour, capsize=2)
        given = entry.get("rho_given_volume")
        if given is not None and given["value"] is not None:
            ax.plot([x, x], [rho["value"], given["value"]], color=colour, linewidth=0.6)
            ax.plot([x], [given["value"]], marker="o", markerfacecolor="white", color=colour)
        label = entry["component"].replace("_", " ")
        width = 0.0075 * x_span * (len(label) + 1)  # about 7-point text on a 9-inch plot
        shift, label_y = 3, rho["value"]  # a label that would overprint another steps down
        while any(
            x < right and px < x + width and abs(label_y - py) < 0.035 * y_span for px, right, py in placed
        ):
            label_y -= 0.035 * y_span
            shift -= 8
        placed.append((x, x + width, label_y))
        ax.annotate(label, (x, rho["value"]), xytext=(4, shift),
                    textcoords="offset points", fontsize=7)  # fmt: skip
    ax.axhline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("share of the SSI the component hands out, %")
    ax.set_ylabel(f"rank correlation with {_LABELS[report['outcome']]}")
    handles = [
        ax.scatter([], [], color=colour, label=name)
        for name, colour in VERDICT_COLOURS.items()
        if any(entry["verdict"] == name for entry in report["components"])
    ]
    ax.legend(handles=handles, loc="best", fontsize=7, frameon=False)
    return figure


def _components_table(report: dict) -> str:
    volume = bool(report.get("volume"))
    head = "<th>ρ given volume</th><th>ρ with volume</th>" if volume else ""
    rows = []
    for entry in report["components"]:
        extra = (
            f"<td>{_value(entry['rho_given_volume'])}</td><td>{_value(entry['rho_with_volume'])}</td>"
            if volume
            else ""
        )
        share = "–" if entry["share_of_ssi"] is None else f"{100 * entry['share_of_ssi']:.1f}%"
        if entry.get("share_of_ssi_at_most") not in (None, entry["share_of_ssi"]):
            share += f" <span class=muted>(≤ {100 * entry['share_of_ssi_at_most']:.1f}%)</span>"
        rows.append(
            f"<tr><td>{entry['component'].replace('_', ' ')}</td><td>{entry['pillar'].replace('_', ' ')}</td>"
            f"<td>{share}</td><td>{100 * (entry['credited_share'] or 0):.0f}%</td>"
            f"<td>{_value(entry['rho'])}</td>{extra}<td>{entry['verdict']}</td></tr>"
        )
    return (
        "<table><tr><th>component</th><th>pillar</th><th>share of SSI</th><th>credited in</th>"
        f"<th>ρ with outcome</th>{head}<th>verdict</th></tr>{''.join(rows)}</table>"
    )


def _volume_figure(Figure: Any, report: dict) -> Any:
    outcome = report["outcome"]
    volume = report["volume"]
    figure = Figure(figsize=(7, 2.8))
    ax = figure.subplots()
    edges = [0.0, *volume["edges"]]
    labels = [f"≥{edge:.0f}" for edge in edges]
    values, errors = _errors([d["mean"][outcome] for d in volume["deciles"]])
    ax.bar(labels, values, yerr=errors, color="#4f7cac", capsize=3)
    ax.set_xlabel(f"own events in the {volume['days']} days up to the score (deciles)")
    ax.set_ylabel(f"{_LABELS[outcome]} per member")
    return figure


def _groups_figure(Figure: Any, report: dict) -> Any:
    outcome = report["outcome"]
    groups = report["groups"]
    panels = 3 if any("mean_volume" in g for g in groups) else 2
    figure = Figure(figsize=(10, 0.35 * len(groups) + 1.2))
    axes = figure.subplots(1, panels, sharey=True)
    names = [g["group"] for g in groups]
    for ax, key, title in zip(
        axes,
        ("mean_ssi", "mean", "mean_volume"),
        ("mean SSI", f"{_LABELS[outcome]} per member", "own events per member"),
        strict=False,
    ):
        estimates = [g[key][outcome] if key == "mean" else g[key] for g in groups]
        values, errors = _errors(estimates)
        ax.barh(names, values, xerr=errors, color="#4f7cac", capsize=2)
        ax.set_title(title)
    axes[0].invert_yaxis()
    return figure


def _groups_table(report: dict) -> str:
    outcome = report["outcome"]
    volume = any("mean_volume" in g for g in report["groups"])
    rows = "".join(
        f"<tr><td>{html.escape(g['group'])}</td><td>{g['n']:,}</td><td>{_value(g['mean_ssi'], digits=1)}</td>"
        f"<td>{_value(g['share_leaders'], percent=True, digits=0)}</td>"
        + (f"<td>{_value(g['mean_volume'], digits=0)}</td>" if volume else "")
        + f"<td>{_value(g['mean'][outcome])}</td>"
        f"<td>{_value(g['lift'], percent=True, signed=True, digits=0)}</td></tr>"
        for g in report["groups"]
    )
    head = "<th>own events</th>" if volume else ""
    return (
        "<table><tr><th>group</th><th>members</th><th>mean SSI</th><th>leaders</th>"
        f"{head}<th>{_LABELS[outcome]} per member</th><th>lift over the others</th></tr>{rows}</table>"
    )
