#!/usr/bin/python3
"""Soak test of banditd (opt-in: `cmake --build build --target soak`, ~10 min).

For --minutes, the real daemon serves a mix of traffic while it is SIGKILLed
--kills times at random moments and restarted on the same state_dir:

  * a client routes and sends acked rewards one at a time, keeping an exact
    ledger of what was acknowledged (a reward whose ack was cut off by a kill
    is re-sent after the restart: `ok` or `duplicate_reward` both mean it
    counts once);
  * 4 clients that never read their replies (DEALER, RCVHWM 1, 4 KB ids);
  * an HTTP attack on /metrics: 20 slowloris connections and Range requests
    with 2,700 ranges.

Checks, printed as a table and in the exit code:
  * after every restart and at the end, each arm's count and reward sum equal
    the ledger: 0 acked rewards lost, 0 counted twice;
  * RSS after a warm-up (the first 10 s of each life) stays within +-5 % of the
    median of all post-warm-up samples. The reward window is 60 s, so the
    de-duplication ledger (about 136 B per rewarded decision of the window)
    reaches its steady size within the first lives.

Usage: /usr/bin/python3 tests/soak/soak.py --bin-dir build/bin [--minutes 10] [--kills 20]
"""
import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zmq

WARMUP_S = 10.0

CONFIG = """\
sockets:
  api: ipc://{d}/api
  rewards: ipc://{d}/rewards
  admin: ipc://{d}/admin
  metrics: 127.0.0.1:0
state_dir: {d}/state
reward_window: 60s
durability:
  mode: group
decision_log:
  min_free_bytes: 1MiB
  max_bytes: 64MiB
experiments:
  - name: ab
    mode: ab
    weights: [0.5, 0.5]
    arms:
      - name: a
        champion: true
      - name: b
    stopping:
      rule: fixed_horizon
      params:
        alpha: 0.05
        n_per_arm: 100000000
"""


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def read_endpoints(state_dir, timeout=30.0):
    path = os.path.join(state_dir, "endpoints")
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                text = f.read()
            if "metrics=" in text:
                return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError("banditd did not write its endpoints file")


def rss_kib(pid):
    """(VmRSS, RssAnon, RssFile) in KiB, or None once the process is gone."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    fields[key] = int(line.split()[1])
    except OSError:
        return None
    if "VmRSS" not in fields:
        return None
    return fields["VmRSS"], fields.get("RssAnon", 0), fields.get("RssFile", 0)


class Ledger:
    def __init__(self):
        self.n = {}
        self.sum = {}
        self.total = 0

    def add(self, arm, value):
        self.n[arm] = self.n.get(arm, 0) + 1
        self.sum[arm] = self.sum.get(arm, 0.0) + value
        self.total += 1


class Api:
    def __init__(self, ctx, endpoint):
        self.s = ctx.socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.connect(endpoint)

    def call(self, req, timeout_ms=2000):
        self.s.send_multipart([b"", pack(req)])
        if not self.s.poll(timeout_ms):
            return None
        return msgpack.unpackb(self.s.recv_multipart()[-1], raw=False)

    def close(self):
        self.s.close()


def check_counts(api, ledger):
    st = api.call({"op": "status", "exp": "ab"}, 5000)
    if st is None or not st.get("ok"):
        return f"status failed: {st}"
    for arm in st["experiments"][0]["arms"]:
        name = arm["name"]
        if arm["n"] != ledger.n.get(name, 0) or abs(arm["reward_sum"] - ledger.sum.get(name, 0.0)) > 1e-6:
            return (f"arm {name}: daemon n={arm['n']} sum={arm['reward_sum']}, "
                    f"acked n={ledger.n.get(name, 0)} sum={ledger.sum.get(name, 0.0)}")
    return None


def non_reader(ctx, endpoint, stop, id_bytes):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.RCVHWM, 1)
    s.setsockopt(zmq.SNDHWM, 1000)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDTIMEO, 100)
    s.connect(endpoint)
    frame = pack({"op": "route", "exp": "ab", "id": "x" * id_bytes})
    while not stop.is_set():
        try:
            s.send_multipart([b"", frame])
        except zmq.Again:
            time.sleep(0.01)
    s.close()


def http_attack(metrics, stop):
    host, port = metrics.rsplit(":", 1)
    port = int(port)
    conns = []
    ranges = "bytes=" + ",".join(["0-"] * 2700)
    while not stop.is_set():
        while len(conns) < 20:
            try:
                c = socket.create_connection((host, port), timeout=1)
                c.sendall(b"GET /metrics HTTP/1.1\r\n")
                conns.append(c)
            except OSError:
                break
        alive = []
        for c in conns:
            try:
                c.sendall(b"X")
                alive.append(c)
            except OSError:
                c.close()
        conns = alive
        try:
            c = socket.create_connection((host, port), timeout=2)
            c.sendall(f"GET /metrics HTTP/1.1\r\nHost: x\r\nRange: {ranges}\r\n\r\n".encode())
            got = 0
            c.settimeout(2)
            while got < 50_000_000:
                b = c.recv(65536)
                if not b:
                    break
                got += len(b)
            c.close()
        except OSError:
            pass
        stop.wait(1.0)
    for c in conns:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--id-bytes", type=int, default=4096,
                    help="size of the id in the non-readers' requests (echoed in each reply)")
    ap.add_argument("--samples", help="write every RSS sample to this CSV file")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    d = tempfile.mkdtemp(prefix="banditd-soak-")
    cfg = os.path.join(d, "banditd.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(d=d))
    ctx = zmq.Context()
    ledger = Ledger()
    unacked = None
    life_s = args.minutes * 60 / (args.kills + 1)
    rss_samples = []  # (life, seconds into life, KiB)
    parts = []  # (life, seconds into life, anonymous KiB, file-backed KiB)
    failures = []
    routes = 0
    t_start = time.time()
    for life in range(args.kills + 1):
        log = open(os.path.join(d, f"banditd-{life}.log"), "w")
        proc = subprocess.Popen([os.path.join(args.bin_dir, "banditd"), "--config", cfg,
                                 "--snapshot-interval-ms", "2000"], stdout=log, stderr=log)
        eps = read_endpoints(os.path.join(d, "state"))
        api = Api(ctx, eps["api"])
        if unacked is not None:
            r = api.call({"op": "reward", "decision": unacked[0], "value": unacked[2]}, 5000)
            if r is not None and (r.get("ok") or r["error"]["code"] == "duplicate_reward"):
                ledger.add(unacked[1], unacked[2])
            else:
                failures.append(f"life {life}: re-sent reward got {r}")
            unacked = None
        err = check_counts(api, ledger)
        if err:
            failures.append(f"life {life} start: {err}")
        stop = threading.Event()
        threads = [threading.Thread(target=non_reader, args=(ctx, eps["api"], stop, args.id_bytes)) for _ in range(4)]
        threads.append(threading.Thread(target=http_attack, args=(eps["metrics"], stop)))
        for t in threads:
            t.start()
        born = time.time()
        last_sample = 0.0
        last_life = life == args.kills
        end = born + (life_s if last_life else rng.uniform(0.5, 1.5) * life_s)
        while time.time() < end:
            now = time.time()
            if now - last_sample >= 1.0:
                last_sample = now
                sample = rss_kib(proc.pid)
                if sample:
                    rss_samples.append((life, now - born, sample[0]))
                    parts.append((life, now - born, sample[1], sample[2]))
            r = api.call({"op": "route", "exp": "ab"})
            if r is None or not r.get("ok"):
                failures.append(f"life {life}: route failed: {r}")
                break
            routes += 1
            value = 1.0 if rng.random() < 0.3 else 0.0
            rr = api.call({"op": "reward", "decision": r["decision"], "value": value})
            if rr is None:
                failures.append(f"life {life}: no reply to a reward while the daemon runs")
                break
            if rr.get("ok"):
                ledger.add(r["arm"], value)
            elif rr["error"]["code"] != "overloaded":
                failures.append(f"life {life}: reward refused: {rr}")
        if not last_life:
            # The kill lands between a reward's send and its ack.
            r = api.call({"op": "route", "exp": "ab"})
            if r is not None and r.get("ok"):
                value = 1.0
                api.s.send_multipart([b"", pack({"op": "reward", "decision": r["decision"], "value": value})])
                time.sleep(rng.uniform(0, 0.002))
                proc.send_signal(signal.SIGKILL)
                unacked = (r["decision"], r["arm"], value)
            else:
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        stop.set()
        for t in threads:
            t.join()
        if last_life:
            err = check_counts(api, ledger)
            if err:
                failures.append(f"end: {err}")
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(30)
            if rc != 0:
                failures.append(f"SIGTERM exit code {rc}")
        api.close()
        log.close()
        print(f"life {life:2d}: {time.time() - born:5.1f} s, acked so far {ledger.total}", flush=True)
    if args.samples:
        with open(args.samples, "w") as f:
            f.write("life,seconds,rss_kib,anon_kib,file_kib\n")
            for (life, t, kib), (_, _, anon, filed) in zip(rss_samples, parts):
                f.write(f"{life},{t:.1f},{kib},{anon},{filed}\n")
    warm = [kib for (life, t, kib) in rss_samples if t >= WARMUP_S]
    med = statistics.median(warm) if warm else 0
    lo, hi = (min(warm), max(warm)) if warm else (0, 0)
    dev = max(abs(lo - med), abs(hi - med)) / med * 100 if med else 100
    print(f"\nsoak: {time.time() - t_start:.0f} s, {args.kills} SIGKILLs, {routes} routes, "
          f"{ledger.total} acked rewards")
    print(f"RSS after warm-up: median {med / 1024:.1f} MiB, min {lo / 1024:.1f}, max {hi / 1024:.1f} "
          f"(max deviation {dev:.1f} % of the median; {len(warm)} samples)")
    # Growth: the lives of the last third against those of the first third.
    lives = sorted({life for (life, t, kib) in rss_samples})
    per_life = {l: statistics.median([k for (life, t, k) in rss_samples if life == l and t >= WARMUP_S] or [0])
                for l in lives}
    third = max(1, len(lives) // 3)
    first = statistics.median([per_life[l] for l in lives[:third]])
    last = statistics.median([per_life[l] for l in lives[-third:]])
    print("RSS median per life (MiB): " + " ".join(f"{per_life[l] / 1024:.1f}" for l in lives))
    for name, col in (("anonymous", 2), ("file-backed", 3)):
        med_part = {l: statistics.median([p[col] for p in parts if p[0] == l and p[1] >= WARMUP_S] or [0])
                    for l in lives}
        print(f"  of which {name} (MiB): " + " ".join(f"{med_part[l] / 1024:.1f}" for l in lives))
    print(f"RSS growth, last third of the lives against the first: {first / 1024:.1f} -> "
          f"{last / 1024:.1f} MiB ({(last - first) / first * 100:+.1f} %)")
    if dev > 5.0:
        failures.append(f"RSS deviates {dev:.1f} % from its median (limit 5 %)")
    for f in failures:
        print("FAIL:", f)
    print("soak:", "passed" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
