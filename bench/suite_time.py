"""What the test suite costs: wall time, the CPU of every process it starts, and how busy the machine was.

Runs each command given (by default `make unit`, then `make test`) and prints, per command: wall seconds;
CPU seconds of its whole process tree (pytest, xdist workers, the Kafka brokers and `ssi-stream worker`s
it starts, Prometheus...), counted from /proc every half second, so processes that outlive their parent
(a broker started with its own session) still count, and ones shorter than a poll do not; the cores the
rest of the machine used meanwhile (other people's work, and the `--hog` processes, shown apart).

    .venv/bin/python bench/suite_time.py                       # make unit, make test
    .venv/bin/python bench/suite_time.py --hog 1               # the same with one core kept busy
    .venv/bin/python bench/suite_time.py -- .venv/bin/python -m pytest -m kafka

Linux only (/proc). The commands' output goes to bench/results/suite-<n>.log.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TICK = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.5
HOG = "while True: pass"


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (all processes)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK  # less idle and iowait


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(parent pid, start tick, CPU seconds) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[19]), (int(fields[11]) + int(fields[12])) / TICK


#: What a process is, by a part of its command line (the first that matches).
KINDS = (
    ("kafka.Kafka", "Kafka brokers"),
    ("kafka.tools", "Kafka tools"),
    ("cli worker", "ssi-stream workers"),
    ("pytest", "pytest"),
    ("exec(eval(sys.stdin.readline()))", "pytest"),  # an xdist worker (execnet)
    ("ssi_stream.cli", "other ssi-stream commands"),
    ("ssi-stream", "other ssi-stream commands"),
    ("prometheus", "Prometheus, promtool"),
    ("promtool", "Prometheus, promtool"),
    ("java", "other JVMs (keytool, mvn)"),
)


def _kind(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    return next((kind for part, kind in KINDS if part in command), "other")


@dataclass
class ProcessTree:
    """The processes started by `root` and their descendants, each CPU figure as last seen."""

    root: int
    cpu: dict[tuple[int, int], float] = field(default_factory=dict)
    kinds: dict[tuple[int, int], str] = field(default_factory=dict)

    def poll(self) -> None:
        stats = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
                stats[int(entry.name)] = stat
        # a pid seen before is still ours if it started at the same tick (pids are reused)
        mine = {self.root} | {pid for pid, started in self.cpu if stats.get(pid, (0, -1))[1] == started}
        grew = True
        while grew:  # descendants of the root or of a process already seen (a reparented broker)
            grew = False
            for pid, (parent, _, _) in stats.items():
                if pid not in mine and parent in mine:
                    mine.add(pid)
                    grew = True
        for pid in mine:
            if pid in stats:
                _, started, seconds = stats[pid]
                self.cpu[pid, started] = seconds
                if (pid, started) not in self.kinds or self.kinds[pid, started] == "other":
                    self.kinds[pid, started] = _kind(pid)  # a fork shows its parent's line until it execs

    @property
    def seconds(self) -> float:
        return sum(self.cpu.values())

    def by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for key, seconds in self.cpu.items():
            totals[self.kinds.get(key, "other")] = totals.get(self.kinds.get(key, "other"), 0.0) + seconds
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


@dataclass(frozen=True)
class Measured:
    command: str
    code: int
    wall: float
    cpu: float
    hogs: float
    machine: float
    kinds: dict[str, float]

    def row(self) -> str:
        others = max(0.0, self.machine - self.cpu - self.hogs)
        cores = (self.cpu, others, self.hogs)
        return (
            f"| `{self.command}` | {self.code} | {self.wall:.0f} | {self.cpu:.0f} | "
            + " | ".join(f"{seconds / self.wall:.2f}" for seconds in cores)
            + " |"
        )


def measure(command: list[str], log: Path, hogs: int) -> Measured:
    hog_trees = [ProcessTree(subprocess.Popen([sys.executable, "-c", HOG]).pid) for _ in range(hogs)]
    busy0, started = machine_busy_seconds(), time.monotonic()
    with open(log, "ab") as out:
        out.write(f"\n==== {shlex.join(command)}\n".encode())
        out.flush()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        tree = ProcessTree(child.pid)
        while child.poll() is None:
            tree.poll()
            for hog in hog_trees:
                hog.poll()
            time.sleep(POLL_SECONDS)
        tree.poll()  # the processes still alive after it (none, normally)
    wall, busy = time.monotonic() - started, machine_busy_seconds() - busy0
    hog_seconds = 0.0
    for hog in hog_trees:
        hog.poll()
        hog_seconds += hog.seconds
        os.kill(hog.root, 9)
        os.waitpid(hog.root, 0)
    return Measured(
        shlex.join(command), child.returncode, wall, tree.seconds, hog_seconds, busy, tree.by_kind()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hog", type=int, default=0, help="CPU-bound processes to run meanwhile (default 0)")
    parser.add_argument("command", nargs="*", help="one command to measure instead of make unit, make test")
    args = parser.parse_args()
    commands = [args.command] if args.command else [["make", "unit"], ["make", "test"]]
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / f"suite-{os.getpid()}.log"
    print(f"{os.cpu_count()} cores, {args.hog} hog(s); output in {log}", flush=True)
    print("| command | exit | wall s | CPU s | CPU/wall (cores) | others' cores | hogs' cores |")
    print("|---|---:|---:|---:|---:|---:|---:|", flush=True)
    failed, results = 0, []
    for command in commands:
        results.append(measure(command, log, args.hog))
        print(results[-1].row(), flush=True)
        failed = failed or results[-1].code
    for result in results:
        kinds = ", ".join(f"{kind} {seconds:.0f}" for kind, seconds in result.kinds.items())
        print(f"\nCPU s of `{result.command}` by process: {kinds}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
