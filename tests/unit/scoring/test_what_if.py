"""What-if scoring re-runs only the components an action can move, and that changes no next step."""

from __future__ import annotations

from hypothesis import given, settings

from ssi_stream.scoring import Effect
from ssi_stream.scoring.explain import WHAT_IFS
from ssi_stream.scoring.model import PILLARS
from ssi_stream.scoring.pillars import COMPONENTS, PILLAR_RULES, Signals

from .conftest import MODEL, build_state, history
from .golden_scores import random_states


def _assert_unmoved_components_keep_their_points(sig: Signals) -> None:
    for pillar in PILLARS:
        before = [c.points for c in PILLAR_RULES[pillar](sig, MODEL)]
        for what_if in WHAT_IFS[pillar]:
            changed = sig.copy()
            what_if.action.change.apply(changed, MODEL)
            rescored = {position for position, _ in what_if.rescored}
            after = [component.points(changed, MODEL) for component in COMPONENTS[pillar]]
            for position, (old, new) in enumerate(zip(before, after, strict=True)):
                if position not in rescored:
                    assert new == old, (pillar, what_if.action.name, COMPONENTS[pillar][position].name)
            assert what_if.points(sig, MODEL, before) == after


def test_an_action_moves_no_component_outside_those_it_rescores_on_corner_states() -> None:
    for scored in random_states():
        _assert_unmoved_components_keep_their_points(Signals.of(scored.state))


@given(history())
@settings(max_examples=60, deadline=None)
def test_an_action_moves_no_component_outside_those_it_rescores(days: list[list[Effect]]) -> None:
    _assert_unmoved_components_keep_their_points(Signals.of(build_state(days)))


def test_every_action_rescores_at_least_one_component() -> None:
    for pillar, what_ifs in WHAT_IFS.items():
        for what_if in what_ifs:
            assert what_if.rescored, (pillar, what_if.action.name)
