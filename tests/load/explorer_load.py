#!/usr/bin/env python3
"""Load test of `trialsim serve`, on loopback only, bounded in clients and time, stopping by itself.
Run by .ci/run after `cargo test`:

    python3 tests/load/explorer_load.py target/release/trialsim [--clients 20] [--seconds 30]

Each client is one page: it moves the treatment-related-mortality slider to a random value (an
edit), asks for the quick pass, and every fourth change also the refined result, then the next
change. Fails on any answer other than 200, or the intended 429 (busy) and 409 (superseded), on
a server that dies, or on a peak RSS above 1 GiB. Prints counts, p50/p95 latencies by kind, and
the server's peak RSS.
"""

import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time

TRM = "arms.hsct.causes.treatment_death.early_risk.risk"
INTENDED = {200, 409, 429}


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    binary = sys.argv[1]
    clients, seconds = arg("--clients", 20), arg("--seconds", 30.0)
    server = subprocess.Popen([binary, "serve", "scenarios/astis.toml"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+)", server.stdout.readline())
    port, token = int(m.group(1)), m.group(2)
    text = open("scenarios/astis.toml").read()
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Origin": f"http://127.0.0.1:{port}",
        "X-Trialsim-Token": token,
        "Content-Type": "application/json",
    }
    lock = threading.Lock()
    latencies = {"edit": [], "quick": [], "refined": []}
    statuses = {}
    failures = []
    deadline = time.monotonic() + seconds

    def call(conn, path, body):
        t = time.perf_counter()
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = r.read().decode()
        return r.status, data, time.perf_counter() - t

    def client(i):
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        changes = 0
        while time.monotonic() < deadline:
            value = round(rng.uniform(0.0, 0.3), 3)
            try:
                s, data, dt = call(conn, "/api/edit", {"toml": text, "key": TRM, "value": value})
                record("edit", s, data, dt)
                if s != 200:
                    continue
                toml = json.loads(data)["toml"]
                stages = ["quick", "refined"] if changes % 4 == 3 else ["quick"]
                for stage in stages:
                    s, data, dt = call(conn, "/api/simulate", {"toml": toml, "stage": stage, "channel": f"load-{i}"})
                    record(stage, s, data, dt)
                changes += 1
            except Exception as e:  # a dropped connection is a failure too
                with lock:
                    failures.append(f"client {i}: {e!r}")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def record(kind, status, data, dt):
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if status not in INTENDED:
                failures.append(f"{kind}: HTTP {status}: {data[:200]}")
            elif status == 200 and kind != "edit":
                last = json.loads(data.strip().splitlines()[-1])
                if "result" not in last:
                    failures.append(f"{kind}: no result: {str(last)[:200]}")
                else:
                    latencies[kind].append(dt)
            elif status == 200:
                latencies[kind].append(dt)

    peak = [0]

    def watch():
        while time.monotonic() < deadline + 5 and server.poll() is None:
            try:
                status = open(f"/proc/{server.pid}/status").read()
                peak[0] = max(peak[0], int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
            except (OSError, AttributeError):
                pass
            time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    watcher = threading.Thread(target=watch)
    started = time.monotonic()
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    alive = server.poll() is None
    server.kill()
    watcher.join()

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

    print(f"load test: {clients} clients for {seconds:.0f} s (ran {elapsed:.1f} s) against 127.0.0.1:{port}")
    print(f"  answers by status: {dict(sorted(statuses.items()))}")
    for kind, xs in latencies.items():
        print(f"  {kind:8s} n = {len(xs):5d}   p50 = {pct(xs, 0.5):7.1f} ms   p95 = {pct(xs, 0.95):7.1f} ms")
    print(f"  server peak RSS: {peak[0] / 1024:.1f} MiB")
    ok = True
    if failures:
        print(f"FAILED: {len(failures)} unintended answers or errors, e.g. {failures[:3]}")
        ok = False
    if not alive:
        print("FAILED: the server died")
        ok = False
    if peak[0] > 1024 * 1024:
        print("FAILED: peak RSS above 1 GiB")
        ok = False
    if not latencies["refined"]:
        print("FAILED: no refined result came back")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
