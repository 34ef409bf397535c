"""The simulation engine: members log in, act, and the network answers, one day at a time.

A discrete-event loop. Each day every member may log in for a few sessions (daily rhythm in their own
time zone); a session plans its actions as entries of one time-ordered queue. Responses from others
(invitation acceptances, message replies, reactions to a post) are queued at their own later times and
decided when they fire, against the network as it is then. Popping the queue in time order yields events
in non-decreasing `occurred_at`; memory is the fixed population, the capped network, and the queue
(about one day of pending responses), never the event history.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator
from math import exp, log, sqrt
from typing import Any

from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.simulation.graph import Network
from ssi_stream.simulation.outcomes import OutcomePipeline
from ssi_stream.simulation.personas import (
    INDUSTRIES,
    POST_FORMATS,
    PROFILE_SECTIONS,
    RECRUITER,
    SENIORITIES,
    WEEKEND_ACTIVITY,
    Persona,
)
from ssi_stream.simulation.population import UTC_OFFSETS_MINUTES, Population
from ssi_stream.simulation.timeline import DAY_MS, HOUR_CUM, HOUR_MS, MINUTE_MS, Timeline

Event = dict[str, Any]
#: Queue entry: (time ms, sequence, kind, actor, a, b, c); meaning of a, b, c depends on kind.
Entry = tuple[int, int, int, int, int, int, int]

# Queue entry kinds.
PROFILE, INVITE, ACCEPT, REMOVE, POST, COMMENT, REACTION, SHARE = range(8)
MESSAGE, SEARCH, VIEW, RECOMMEND, GROUP, FOLLOW = range(8, 14)

# Message flags (entry field c): bit 0 InMail, bit 1 reply, bits 2+ reply depth.
_INMAIL, _REPLY = 1, 2
_MAX_REPLY_DEPTH = 6

_SEARCH_KINDS = ("people", "company", "content", "jobs")
_VIEW_SOURCES = ("search", "feed", "network", "other")
_RECENT_POSTS = 4096
_GROUPS_PER_INDUSTRY = 40
_FEED_WINDOW_MS = 7 * DAY_MS
#: Share of optional seniority fields that are filled in.
_SENIORITY_KNOWN = 0.9
#: Activity of a lapsed member relative to before.
_LAPSED_ACTIVITY = 0.04

# Per-session action means, in this order (see `_session`).
_ACTIONS = (
    "invites",
    "posts",
    "comments",
    "reactions",
    "shares",
    "messages",
    "people_searches",
    "other_searches",
    "profile_views",
    "follows",
    "group_joins",
    "profile_updates",
)


class Simulation:
    """One deterministic run: iterate `ordered_events()` once, in occurred_at order."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.population = Population(config)
        self.timeline = Timeline(config.start, config.days)
        self.network = Network(config.members, config.max_connections)
        n = config.members
        self._rng = random.Random(f"{config.seed}:activity")
        self._rand = self._rng.random
        self._event_prefix = f"s{config.seed}-"
        self._events = 0
        self._posts = 0
        self._threads = 0
        self._seq = 0
        self._queue: list[Entry] = []
        self._appeared = bytearray(n)
        self._sections = bytearray(n * 2)  # 10-bit masks, two bytes per member
        self._recent: list[tuple[int, int, int]] = []  # (post number, author, time) ring buffer
        self._recent_next = 0
        self._shift = max(1, (n - 1).bit_length())
        pop = self.population
        self._member_ids: list[str] | None = [pop.member_id(i) for i in range(n)] if n <= 2_000_000 else None
        #: Offset (minutes) each member writes timestamps in: most UTC ("Z"), every fifth one local.
        self._ts_offset = [
            UTC_OFFSETS_MINUTES[pop.offset_of[i]] if i % 5 == 0 else 0 for i in range(min(n, 5 * 2**20))
        ]
        scale = config.events_per_member_day_scale
        self._plans = [
            tuple(_exp_neg(getattr(p, a) * scale / max(1.0, p.sessions_per_active_day)) for a in _ACTIONS)
            for p in pop.personas
        ]
        self._recruiter = pop.personas.index(RECRUITER)
        self._engage_propensity = [
            min(1.0, (p.reactions + p.comments + p.shares) / 3.0) for p in pop.personas
        ]
        #: How each persona engages with a post in its feed: thresholds on a uniform draw for
        #: (reaction, comment); the rest are shares. Lurkers only ever react.
        self._engage_mix = [_engage_thresholds(p) for p in pop.personas]
        self._fire: list[Callable[[Entry], Event | None]] = [
            self._fire_profile,
            self._fire_invite,
            self._fire_accept,
            self._fire_remove,
            self._fire_post,
            self._fire_interaction,
            self._fire_interaction,
            self._fire_interaction,
            self._fire_message,
            self._fire_search,
            self._fire_view,
            self._fire_recommend,
            self._fire_group,
            self._fire_follow,
        ]
        #: CRM outcomes (`SimulationConfig.outcomes`), drawn apart: the activity events stay the same.
        self._outcomes = (
            OutcomePipeline(config.seed, pop, self._outcome_envelope) if config.outcomes else None
        )

    # ----------------------------------------------------------------------------------- main loop

    def ordered_events(self) -> Iterator[tuple[int, Event]]:
        """Yield (ms since start, event) for the whole run, in non-decreasing time."""
        mask = (1 << self._shift) - 1
        shift = self._shift
        for day in range(self.config.days):
            for key in self._plan_logins(day):
                t = key >> shift
                yield from self._drain(t + 1)
                self._session(key & mask, t)
            yield from self._drain((day + 1) * DAY_MS)

    def state_size(self) -> dict[str, int]:
        """Sizes of the internal state, to check that memory is bounded by members, not days."""
        net = self.network
        sizes = {
            "queue": len(self._queue),
            "connections": net.connections.total(),
            "following": net.following.total(),
            "groups": net.groups.total(),
            "recent_posts": len(self._recent),
        }
        if self._outcomes is not None:
            sizes["outcomes_pending"] = self._outcomes.pending()
        return sizes

    def _drain(self, limit: int) -> Iterator[tuple[int, Event]]:
        """Fire every queued entry before `limit`, yielding the events they produce."""
        queue = self._queue
        pop = heapq.heappop
        fire = self._fire
        appeared = self._appeared
        first_profile_share = self.config.profile_on_first_appearance
        outcomes = self._outcomes
        while queue and queue[0][0] < limit:
            if outcomes is not None:
                yield from outcomes.due(queue[0][0])
            entry = pop(queue)
            t, _, kind, actor = entry[:4]
            if not appeared[actor]:
                appeared[actor] = 1
                if self._rand() < first_profile_share:
                    yield t, self._first_profile(actor, t)
            event = fire[kind](entry)
            if event is not None:
                yield t, event
        if outcomes is not None:
            yield from outcomes.due(limit)

    def _push(self, t: int, kind: int, actor: int, a: int = 0, b: int = 0, c: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, kind, actor, a, b, c))

    def _plan_logins(self, day: int) -> list[int]:
        """Session start times of `day`, packed as (time << shift | member), sorted."""
        pop = self.population
        rand = self._rand
        weekend = WEEKEND_ACTIVITY if self.timeline.is_weekend(day) else 1.0
        active = [p.active_day_prob * weekend for p in pop.personas]
        extra_sessions = [_exp_neg(max(0.0, p.sessions_per_active_day - 1.0)) for p in pop.personas]
        offsets = [m * MINUTE_MS for m in UTC_OFFSETS_MINUTES]
        lapse_day = pop.lapse_day
        persona_of = pop.persona_of
        offset_of = pop.offset_of
        base = day * DAY_MS
        shift = self._shift
        total_weight = HOUR_CUM[-1]
        starts: list[int] = []
        for i in range(pop.size):
            p = persona_of[i]
            chance = active[p]
            lapse = lapse_day[i]
            if lapse >= 0 and day >= lapse:
                chance *= _LAPSED_ACTIVITY
            if rand() >= chance:
                continue
            sessions = 1 + _poisson(rand, extra_sessions[p])
            for _ in range(sessions):
                hour = bisect_right(HOUR_CUM, rand() * total_weight)
                local = hour * HOUR_MS + int(rand() * HOUR_MS)
                t = base + (local - offsets[offset_of[i]]) % DAY_MS
                starts.append(t << shift | i)
        starts.sort()
        return starts

    # ------------------------------------------------------------------------------------ sessions

    def _session(self, i: int, t: int) -> None:
        """Plan what member `i` does in a session starting at `t`."""
        rand = self._rand
        counts = [_poisson(rand, m) for m in self._plans[self.population.persona_of[i]]]
        total = sum(counts)
        if not total:
            return
        window = min(HOUR_MS, MINUTE_MS * (3 + total // 2))
        persona = self.population.persona(i)
        (
            invites,
            posts,
            comments,
            reactions,
            shares,
            messages,
            people,
            others,
            views,
            follows,
            groups,
            updates,
        ) = counts
        for _ in range(invites):
            self._plan_invite(i, t + int(rand() * window), persona)
        for _ in range(posts):
            self._posts += 1
            fmt = _pick(persona.format_weights, rand())
            self._push(t + int(rand() * window), POST, i, self._posts, fmt)
        for kind, count in ((COMMENT, comments), (REACTION, reactions), (SHARE, shares)):
            for _ in range(count):
                self._plan_interaction(i, t + int(rand() * window), kind)
        for _ in range(messages):
            self._plan_message(i, t + int(rand() * window), persona)
        for _ in range(people):
            self._plan_people_search(i, t + int(rand() * window), persona)
        for _ in range(others):
            results = _poisson(rand, 0.2) if rand() < 0.3 else -1
            self._push(t + int(rand() * window), SEARCH, i, 1 + int(rand() * 3), results)
        for _ in range(views):
            self._plan_view(i, t + int(rand() * window))
        for _ in range(follows):
            self._plan_follow(i, t + int(rand() * window))
        for _ in range(groups):
            self._plan_group(i, t + int(rand() * window))
        for _ in range(updates):
            self._push(t + int(rand() * window), PROFILE, i)
        net = self.network
        per_session = 1.0 / max(1.0, persona.sessions_per_active_day)
        if rand() < persona.recommendations * per_session and net.connections.size(i):
            self._push(t + int(rand() * window), RECOMMEND, i, self._random_connection(i))
        if rand() < persona.removals * per_session and net.connections.size(i):
            self._push(t + int(rand() * window), REMOVE, i, self._random_connection(i))

    def _plan_invite(self, i: int, t: int, persona: Persona) -> None:
        rand = self._rand
        target = self._relevant_member(i) if rand() < persona.targeted_prob else self._any_member()
        if target == i or self.network.connected(i, target):
            return
        self._push(t, INVITE, i, target, rand() < persona.personalized_prob)

    def _plan_interaction(self, i: int, t: int, kind: int) -> None:
        """React to, comment on or share a recent post, preferring connections' posts."""
        rand = self._rand
        net = self.network
        conns = net.connections.members(i)
        if conns:
            for _ in range(3):
                author = conns[int(rand() * len(conns))]
                posted = net.last_post_at[author]
                if posted >= 0 and t - _FEED_WINDOW_MS < posted < t:
                    self._push(t, kind, i, net.last_post[author], author)
                    return
        recent = self._recent
        if recent:
            post, author, posted = recent[int(rand() * len(recent))]
            if author != i and posted < t:
                self._push(t, kind, i, post, author)

    def _plan_message(self, i: int, t: int, persona: Persona) -> None:
        rand = self._rand
        if rand() < persona.inmail_share:
            recipient, flags = self._relevant_member(i), _INMAIL
        elif self.network.connections.size(i):
            recipient, flags = self._random_connection(i), 0
        else:
            return
        if recipient == i:
            return
        self._threads += 1
        self._push(t, MESSAGE, i, recipient, self._threads, flags)

    def _plan_people_search(self, i: int, t: int, persona: Persona) -> None:
        rand = self._rand
        viewed = _poisson(rand, _exp_neg(persona.views_per_search))
        self._push(t, SEARCH, i, 0, viewed)
        for _ in range(viewed):
            target = self._relevant_member(i)
            if target != i:
                self._push(t + 5_000 + int(rand() * 3 * MINUTE_MS), VIEW, i, target, 0)

    def _plan_view(self, i: int, t: int) -> None:
        rand = self._rand
        u = rand()
        if u < 0.4 and self.network.connections.size(i):
            target, source = self._random_connection(i), 2
        elif u < 0.7 and self._recent:
            target, source = self._recent[int(rand() * len(self._recent))][1], 1
        else:
            target, source = self._any_member(), 3
        if target != i:
            self._push(t, VIEW, i, target, source)

    def _plan_follow(self, i: int, t: int) -> None:
        pop = self.population
        cum = pop.follow_cum
        group = pop.persona_members[_pick_cum(cum, self._rand())]
        if not group:
            return
        target = group[int(self._rand() * len(group))]
        if target != i and self.network.following.add(i, target):
            self.network.followers[target] += 1
            self._push(t, FOLLOW, i, target)

    def _plan_group(self, i: int, t: int) -> None:
        rand = self._rand
        if rand() < 0.7:
            group = self.population.industry_of[i] * _GROUPS_PER_INDUSTRY + int(rand() * _GROUPS_PER_INDUSTRY)
        else:
            group = len(INDUSTRIES) * _GROUPS_PER_INDUSTRY + int(rand() * 200)
        if self.network.groups.add(i, group):
            self._push(t, GROUP, i, group)

    # ------------------------------------------------------------------------------ choosing people

    def _any_member(self) -> int:
        return int(self._rand() * self.population.size)

    def _random_connection(self, i: int) -> int:
        conns = self.network.connections.members(i)
        assert conns  # callers check the member has connections
        return conns[int(self._rand() * len(conns))]

    def _relevant_member(self, i: int) -> int:
        """Someone worth knowing for `i`: a friend of a friend, a decision maker or a peer in the industry."""
        rand = self._rand
        pop = self.population
        u = rand()
        if u < 0.3:
            conns = self.network.connections.members(i)
            if conns:
                friend = conns[int(rand() * len(conns))]
                theirs = self.network.connections.members(friend)
                if theirs:
                    return theirs[int(rand() * len(theirs))]
        industry = pop.industry_of[i]
        if pop.persona_of[i] == self._recruiter:
            industry = int(rand() * len(INDUSTRIES))
        bucket = pop.decision_makers[industry] if u < 0.6 else pop.industry_members[industry]
        if not bucket:
            bucket = pop.industry_members[industry]
        return bucket[int(rand() * len(bucket))] if bucket else self._any_member()

    # ------------------------------------------------------------------------------------ emitting

    def _envelope(self, t: int, i: int, event_type: str) -> Event:
        self._events += 1
        ids = self._member_ids
        offsets = self._ts_offset
        return {
            "event_id": f"{self._event_prefix}{self._events}",
            "member_id": ids[i] if ids is not None else self.population.member_id(i),
            "type": event_type,
            "occurred_at": self.timeline.timestamp(t, offsets[i] if i < len(offsets) else 0),
            "schema_version": 1,
        }

    def _outcome_envelope(self, t: int, i: int, event_type: str, event_id: str) -> Event:
        """An outcome's envelope: like `_envelope`, with the pipeline's own event id and counter."""
        offsets = self._ts_offset
        return {
            "event_id": event_id,
            "member_id": self._id(i),
            "type": event_type,
            "occurred_at": self.timeline.timestamp(t, offsets[i] if i < len(offsets) else 0),
            "schema_version": 1,
        }

    def _id(self, i: int) -> str:
        ids = self._member_ids
        return ids[i] if ids is not None else self.population.member_id(i)

    def _seniority(self, i: int) -> str:
        return SENIORITIES[self.population.seniority_of[i]]

    def _first_profile(self, i: int, t: int) -> Event:
        """Full profile at a member's first appearance: industry, seniority and completed sections."""
        rand = self._rand
        low, high = self.population.persona(i).initial_sections
        count = low + int(rand() * (high - low + 1))
        order = list(range(len(PROFILE_SECTIONS)))
        if count < len(order):
            a, b = int(rand() * count), count + int(rand() * (len(order) - count))
            order[a], order[b] = order[b], order[a]
        mask = 0
        for s in order[:count]:
            mask |= 1 << s
        self._set_sections(i, mask)
        event = self._envelope(t, i, "profile_updated")
        event["industry"] = INDUSTRIES[self.population.industry_of[i]]
        event["seniority"] = self._seniority(i)
        event["completed_sections"] = _sections(mask)
        return event

    def _set_sections(self, i: int, mask: int) -> None:
        self._sections[2 * i] = mask & 0xFF
        self._sections[2 * i + 1] = mask >> 8

    def _fire_profile(self, entry: Entry) -> Event:
        t, _, _, i = entry[:4]
        rand = self._rand
        mask = self._sections[2 * i] | self._sections[2 * i + 1] << 8
        missing = [s for s in range(len(PROFILE_SECTIONS)) if not mask >> s & 1]
        event = self._envelope(t, i, "profile_updated")
        if missing:
            for _ in range(1 + int(rand() * 2)):
                if missing:
                    mask |= 1 << missing.pop(int(rand() * len(missing)) if rand() < 0.3 else 0)
            self._set_sections(i, mask)
            event["completed_sections"] = _sections(mask)
        elif rand() < 0.5:
            event["seniority"] = self._seniority(i)
        else:
            event["industry"] = INDUSTRIES[self.population.industry_of[i]]
        return event

    def _fire_invite(self, entry: Entry) -> Event:
        t, _, _, i, target, personalized, _ = entry
        rand = self._rand
        event = self._envelope(t, i, "invite_sent")
        event["target_member_id"] = self._id(target)
        event["personalized"] = bool(personalized)
        if rand() < _SENIORITY_KNOWN:
            event["target_seniority"] = self._seniority(target)
        pop = self.population
        acceptance = pop.persona(i).invite_acceptance * (1.1 if personalized else 0.9)
        if rand() < acceptance:
            responsiveness = pop.persona(target).active_day_prob
            delay = MINUTE_MS + int(-log(1.0 - rand()) * 8 * HOUR_MS / max(0.05, responsiveness))
            self._push(t + delay, ACCEPT, target, i, personalized)
        return event

    def _fire_accept(self, entry: Entry) -> Event | None:
        t, _, _, i, inviter, personalized, _ = entry
        if not self.network.connect(i, inviter):
            return None
        if self._outcomes is not None:
            self._outcomes.invitation_accepted(t, inviter, i, bool(personalized))
        rand = self._rand
        event = self._envelope(t, i, "invite_accepted")
        event["inviter_member_id"] = self._id(inviter)
        if rand() < _SENIORITY_KNOWN:
            event["inviter_seniority"] = self._seniority(inviter)
            event["member_seniority"] = self._seniority(i)
        if rand() < self.population.persona(inviter).removed_after_accept:
            self._push(t + HOUR_MS + int(rand() * 6 * DAY_MS), REMOVE, i, inviter)
        return event

    def _fire_remove(self, entry: Entry) -> Event | None:
        t, _, _, i, other, _, _ = entry
        if not self.network.disconnect(i, other):
            return None
        event = self._envelope(t, i, "connection_removed")
        event["other_member_id"] = self._id(other)
        if self._rand() < _SENIORITY_KNOWN:
            event["other_seniority"] = self._seniority(other)
            event["member_seniority"] = self._seniority(i)
        return event

    def _fire_post(self, entry: Entry) -> Event:
        t, _, _, i, post, fmt, _ = entry
        net = self.network
        net.last_post[i] = post
        net.last_post_at[i] = t
        if len(self._recent) < _RECENT_POSTS:
            self._recent.append((post, i, t))
        else:
            self._recent[self._recent_next] = (post, i, t)
            self._recent_next = (self._recent_next + 1) % _RECENT_POSTS
        event = self._envelope(t, i, "post_published")
        event["post_id"] = f"p{post}"
        event["format"] = POST_FORMATS[fmt]
        self._schedule_engagement(i, t, post)
        return event

    def _schedule_engagement(self, author: int, t: int, post: int) -> None:
        """Reactions, comments and shares a new post will receive, mostly from the author's connections."""
        rand = self._rand
        pop = self.population
        net = self.network
        persona = pop.persona(author)
        audience = net.connections.size(author) + net.followers[author]
        mean = persona.post_appeal * self.config.events_per_member_day_scale * (1.0 + sqrt(audience) / 4.0)
        conns = net.connections.members(author)
        peers = pop.industry_members[pop.industry_of[author]]
        propensity = self._engage_propensity
        for _ in range(_poisson(rand, _exp_neg(mean))):
            if conns and rand() < 0.7:
                engager = conns[int(rand() * len(conns))]
            else:
                engager = peers[int(rand() * len(peers))]
            engager_persona = pop.persona_of[engager]
            if engager == author or rand() >= propensity[engager_persona]:
                continue
            u = rand()
            react_below, comment_below = self._engage_mix[engager_persona]
            kind = REACTION if u < react_below else COMMENT if u < comment_below else SHARE
            delay = MINUTE_MS + int(-log(1.0 - rand()) * 4 * HOUR_MS)
            self._push(t + delay, kind, engager, post, author)

    def _fire_interaction(self, entry: Entry) -> Event:
        t, _, kind, i, post, author, _ = entry
        event_type = (
            "comment_posted" if kind == COMMENT else "reaction_added" if kind == REACTION else "post_shared"
        )
        event = self._envelope(t, i, event_type)
        event["post_id"] = f"p{post}"
        event["post_author_id"] = self._id(author)
        return event

    def _fire_message(self, entry: Entry) -> Event:
        t, _, _, sender, recipient, thread, flags = entry
        event = self._envelope(t, sender, "message_sent")
        event["recipient_member_id"] = self._id(recipient)
        event["thread_id"] = f"t{thread}"
        event["is_reply"] = bool(flags & _REPLY)
        event["channel"] = "inmail" if flags & _INMAIL else "message"
        depth = flags >> 2
        if self._outcomes is not None:
            if depth == 0:
                self._outcomes.conversation_started(t, sender, recipient)
            elif depth % 2:  # the thread's recipient answering the member who started it
                self._outcomes.prospect_replied(t, recipient, sender, (depth + 1) // 2)
        if depth < _MAX_REPLY_DEPTH:
            pop = self.population
            rand = self._rand
            answerer = pop.persona(recipient)
            chance = answerer.reply_prob * pop.persona(sender).reply_appeal * 0.55**depth
            if rand() < chance:
                mean = HOUR_MS + 10 * HOUR_MS * (1.0 - answerer.active_day_prob)
                delay = 30_000 + int(-log(1.0 - rand()) * mean)
                reply_flags = (flags & _INMAIL) | _REPLY | (depth + 1) << 2
                self._push(t + delay, MESSAGE, recipient, sender, thread, reply_flags)
        return event

    def _fire_search(self, entry: Entry) -> Event:
        t, _, _, i, kind, results, _ = entry
        event = self._envelope(t, i, "search_performed")
        event["search_kind"] = _SEARCH_KINDS[kind]
        if results >= 0:
            event["results_viewed"] = results
        return event

    def _fire_view(self, entry: Entry) -> Event:
        t, _, _, i, viewed, source, _ = entry
        event = self._envelope(t, i, "profile_viewed")
        event["viewed_member_id"] = self._id(viewed)
        event["source"] = _VIEW_SOURCES[source]
        return event

    def _fire_recommend(self, entry: Entry) -> Event:
        t, _, _, i, recommender, _, _ = entry
        event = self._envelope(t, i, "recommendation_received")
        event["recommender_member_id"] = self._id(recommender)
        return event

    def _fire_group(self, entry: Entry) -> Event:
        t, _, _, i, group, _, _ = entry
        event = self._envelope(t, i, "group_joined")
        event["group_id"] = f"g{group:04d}"
        return event

    def _fire_follow(self, entry: Entry) -> Event:
        t, _, _, i, followed, _, _ = entry
        event = self._envelope(t, i, "member_followed")
        event["followed_member_id"] = self._id(followed)
        return event


def _engage_thresholds(p: Persona) -> tuple[float, float]:
    total = p.reactions + p.comments + p.shares
    if total <= 0:
        return 1.0, 1.0
    return p.reactions / total, (p.reactions + p.comments) / total


def _exp_neg(mean: float) -> float:
    """Encode a Poisson mean for `_poisson`: exp(-mean) for small means, -mean for large ones."""
    return exp(-mean) if mean < 30 else -mean


def _poisson(rand: Callable[[], float], encoded: float) -> int:
    """Poisson draw from a mean encoded by `_exp_neg` (Knuth for small means, normal beyond 30)."""
    if encoded >= 0:
        k = 0
        p = rand()
        while p > encoded:
            k += 1
            p *= rand()
        return k
    mean = -encoded
    # Irwin–Hall approximation of a standard normal from four uniforms.
    z = (rand() + rand() + rand() + rand() - 2.0) * 1.7320508075688772
    return max(0, int(mean + sqrt(mean) * z + 0.5))


def _pick(weights: tuple[float, ...], u: float) -> int:
    """Index drawn from (unnormalised) weights given a uniform `u`."""
    x = u * sum(weights)
    for k, w in enumerate(weights):
        x -= w
        if x < 0:
            return k
    return len(weights) - 1


def _pick_cum(cum: list[float], u: float) -> int:
    x = u * cum[-1]
    for k, c in enumerate(cum):
        if x < c:
            return k
    return len(cum) - 1


def _sections(mask: int) -> list[str]:
    return [s for k, s in enumerate(PROFILE_SECTIONS) if mask >> k & 1]
