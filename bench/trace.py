"""Where a publish spends its time with the registry at a distance: one run through the latency
proxy, its requests on a timeline.

    python bench/trace.py fresh20                         # featurepub, 20 ms round trip
    python bench/trace.py nochange20 --tool reference --rtt 50
    python bench/trace.py fresh20 --timeline              # and every request, in order
    python bench/trace.py --file bench/results/traces/featurepub-20-20ms-t0-fresh20.json

Sets up the scenario's plan up to it (straight to the registry), then runs the tool once through
bench/latency_proxy.py and prints: the time before the first connection and the first request,
connections opened and how many requests each carried, requests in flight (most at once, and on
average while any was), the time with nothing in flight between the first and the last request
(the tool working, or waiting on itself), the longest chain of requests each waiting for the one
before (the critical path as the run took it, in requests), and each repository's chain. featurepub
runs with --verbose; its log is kept in bench/results/traces/. `--file` reads a trace that
`bench/run.py --trace` wrote instead of running anything.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency_proxy import Exchange, LatencyProxy, Opened
from bench.scenarios import ROOT, SCENARIOS, collection, command, featurepub_under_test, launch, plan_of
from tests.support.registry import RegistryServer

TRACES = ROOT / "bench" / "results" / "traces"
_REPOSITORY = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags)/")
_DIGEST = re.compile(r"sha256:([0-9a-f]{8})[0-9a-f]{56}")


def repository_of(path: str) -> str:
    """The repository a request is about: `/v2/<name>/blobs/...` -> name; `_catalog`, `/v2/` as they are."""
    found = _REPOSITORY.match(path)
    if found:
        return found.group("name")
    return path.split("?", 1)[0].removeprefix("/v2/") or "/v2/"


def short(path: str) -> str:
    """A request path fit for one line: digests cut to 8 hex digits, upload sessions to `<session>`."""
    path = _DIGEST.sub(r"sha256:\1…", path)
    path = re.sub(r"/blobs/uploads/[^?/]+", "/blobs/uploads/<session>", path)
    return re.sub(r"_state=[^&]*&?", "", path).replace("?&", "?").rstrip("?&")


def longest_chain(exchanges: list[Exchange]) -> list[Exchange]:
    """The longest sequence of exchanges in which each arrived after the one before was answered."""
    ordered = sorted(exchanges, key=lambda e: e.arrived)
    best: list[list[Exchange]] = []
    for index, exchange in enumerate(ordered):
        before = [best[i] for i in range(index) if ordered[i].answered <= exchange.arrived]
        best.append([*max(before, key=len, default=[]), exchange])
    return max(best, key=len, default=[])


def busy_time(exchanges: list[Exchange]) -> float:
    """Seconds during which at least one request was in flight."""
    total, end = 0.0, float("-inf")
    for exchange in sorted(exchanges, key=lambda e: e.arrived):
        if exchange.answered > end:
            total += exchange.answered - max(exchange.arrived, end)
            end = exchange.answered
    return total


def most_in_flight(exchanges: list[Exchange]) -> int:
    events = sorted([(e.arrived, 1) for e in exchanges] + [(e.answered, -1) for e in exchanges])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


@dataclass(frozen=True)
class Summary:
    wall: float
    first_connection: float  # seconds after launch
    first_request: float
    last_answer_to_exit: float
    connections: int
    requests: int
    requests_per_connection: Counter[int]  # requests carried -> connections that carried that many
    most_in_flight: int
    mean_in_flight: float  # while any request was in flight
    idle: float  # nothing in flight, between the first request and the last answer
    chain: list[Exchange]


def summarise(exchanges: list[Exchange], opened: list[Opened], started: float, ended: float) -> Summary:
    if not exchanges:
        raise ValueError("no request went through the proxy")
    first, last = min(e.arrived for e in exchanges), max(e.answered for e in exchanges)
    busy = busy_time(exchanges)
    carried = Counter(e.connection for e in exchanges)
    return Summary(
        wall=ended - started,
        first_connection=min(o.accepted for o in opened) - started if opened else first - started,
        first_request=first - started,
        last_answer_to_exit=ended - last,
        connections=len(opened),
        requests=len(exchanges),
        requests_per_connection=Counter(carried.values()),
        most_in_flight=most_in_flight(exchanges),
        mean_in_flight=sum(e.answered - e.arrived for e in exchanges) / busy if busy else 0.0,
        idle=(last - first) - busy,
        chain=longest_chain(exchanges),
    )


def report(exchanges: list[Exchange], opened: list[Opened], started: float, ended: float, rtt: float) -> str:
    s = summarise(exchanges, opened, started, ended)
    ms = 1000
    reuse = ", ".join(f"{n} carried {k}" for k, n in sorted(s.requests_per_connection.items()))
    lines = [
        f"wall {s.wall * ms:.0f} ms; {s.requests} requests over {s.connections} connections ({reuse})",
        f"first connection at {s.first_connection * ms:.0f} ms, first request at {s.first_request * ms:.0f} ms, "
        f"exit {s.last_answer_to_exit * ms:.0f} ms after the last answer",
        "connections opened at (ms): " + ", ".join(f"{(o.accepted - started) * ms:.0f}" for o in opened),
        f"in flight: at most {s.most_in_flight}, {s.mean_in_flight:.1f} on average while any was; "
        f"nothing in flight for {s.idle * ms:.0f} ms between the first request and the last answer",
        f"longest chain: {len(s.chain)} requests one after another"
        + (f" (= {len(s.chain) * rtt * ms:.0f} ms of round trips)" if rtt else ""),
    ]
    for exchange in s.chain:
        lines.append(f"    {_line(exchange, started)}")
    chains: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        chains[repository_of(exchange.path)].append(exchange)
    lines.append("per repository: requests, longest chain, first arrival to last answer (ms)")
    for name, own in sorted(chains.items(), key=lambda item: min(e.arrived for e in item[1])):
        span = max(e.answered for e in own) - min(e.arrived for e in own)
        begin = min(e.arrived for e in own) - started
        methods = " ".join(e.method for e in sorted(own, key=lambda e: e.arrived))
        chain = len(longest_chain(own))
        lines.append(f"    {name:<40} {len(own):3d} {chain:3d}  {begin * ms:6.0f} +{span * ms:5.0f}  {methods}")
    return "\n".join(lines)


def _line(exchange: Exchange, started: float) -> str:
    return (
        f"{(exchange.arrived - started) * 1000:7.1f} +{(exchange.answered - exchange.arrived) * 1000:6.1f} ms "
        f"c{exchange.connection:<3d} {exchange.method:<4} {exchange.status:3d} {short(exchange.path)}"
    )


def timeline(exchanges: list[Exchange], opened: list[Opened], started: float) -> str:
    """Every request in order of arrival, and each connection where it was opened."""
    events = [(e.arrived, _line(e, started)) for e in exchanges]
    events += [
        (o.accepted, f"{(o.accepted - started) * 1000:7.1f}  connection c{o.number} opened") for o in opened
    ]
    return "\n".join(line for _, line in sorted(events))


def load(path: Path) -> tuple[list[Exchange], list[Opened], float, float]:
    document = json.loads(path.read_text())
    sample = document["sample"]
    return (
        [Exchange(**e) for e in document["exchanges"]],
        [Opened(**o) for o in document["opened"]],
        sample["started"],
        sample["ended"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", choices=list(SCENARIOS), help="what to run")
    parser.add_argument("--tool", choices=("featurepub", "reference"), default="featurepub")
    parser.add_argument("--rtt", type=float, default=20.0, help="round-trip time in ms (default 20)")
    parser.add_argument("--connect-rtts", type=int, default=1, help="round trips per new connection (default 1)")
    parser.add_argument("--timeline", action="store_true", help="also list every request in order")
    parser.add_argument("--featurepub-exe", metavar="PATH", help="run this featurepub executable instead")
    parser.add_argument("--file", type=Path, help="read a trace written by bench/run.py --trace instead")
    args = parser.parse_args()
    if args.file is not None:
        exchanges, opened, started, ended = load(args.file)
        print(report(exchanges, opened, started, ended, 0.0))
        if args.timeline:
            print(timeline(exchanges, opened, started))
        return 0
    if args.scenario is None:
        parser.error("name a scenario, or give --file")
    scenario = SCENARIOS[args.scenario]
    plan = plan_of(args.scenario)
    featurepub = featurepub_under_test(args.featurepub_exe)
    TRACES.mkdir(parents=True, exist_ok=True)
    log = TRACES / f"{args.tool}-{args.scenario}-{args.rtt:.0f}ms.log"
    log.write_bytes(b"")
    with tempfile.TemporaryDirectory(prefix="featurepub-trace-") as temp:
        work = Path(temp)
        (work / "registry").mkdir()
        registry = RegistryServer(work / "registry").start()
        proxy = LatencyProxy(registry.port, args.rtt / 1000, args.connect_rtts)
        try:
            src = collection(work, plan.features, plan.payload)
            for step in plan.steps[: plan.steps.index(scenario) + 1]:
                if step.change is not None:
                    step.change(src)
                if step is not scenario:
                    launch(command(args.tool, featurepub, src, registry.host, "trace/x"))
            proxy.reset()
            sample = launch(command(args.tool, featurepub, src, proxy.host, "trace/x", verbose=True), log)
            traffic = proxy.reset()
        finally:
            proxy.stop()
            registry.stop()
    print(f"{args.tool}, {scenario.title}, {args.rtt:.0f} ms round trip (+{args.connect_rtts} per connection)")
    print(f"exit {sample.exit_code}; its output: {log}")
    print(report(traffic.exchanges, traffic.opened, sample.started, sample.ended, args.rtt / 1000))
    if args.timeline:
        print(timeline(traffic.exchanges, traffic.opened, sample.started))
    return 0 if sample.exit_code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
