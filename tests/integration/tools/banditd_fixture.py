"""Starts the real banditd for the tools' integration tests.

Environment (set by ctest, see CMakeLists.txt): BANDITD_BIN_DIR (banditd,
banditctl), BANDITD_MODEL_DIR (the demo models the build generates),
BANDITD_SOURCE_DIR (clients/python).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.environ.get(
    "BANDITD_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
BIN_DIR = os.environ.get("BANDITD_BIN_DIR", os.path.join(SOURCE_DIR, "build", "bin"))
MODEL_DIR = os.environ.get("BANDITD_MODEL_DIR", os.path.join(BIN_DIR, "..", "models"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "clients", "python"))

# One model experiment (Thompson, champion floor 50%) and two route-only A/Bs
# (`ops` is the one admin ops may change).
CONFIG = """\
sockets:
  api: ipc://{dir}/api
  api_extra: [ipc://{dir}/api-2]
  rewards: ipc://{dir}/rewards
  admin: ipc://{dir}/admin
  metrics: 127.0.0.1:0
state_dir: {dir}/state
model_dir: {models}
durability:
  mode: group
  group_window_ms: 2
reward_window: 1h
inference:
  workers: 1
  intra_op_threads: 1
logging:
  level: warn
experiments:
  - name: ctr
    mode: bandit
    policy:
      name: thompson
    traffic:
      champion_floor: 0.5
    arms:
      - name: champion
        champion: true
        model:
          path: champion.pt
          input_shape: [8]
      - name: challenger
        model:
          path: challenger.pt
          input_shape: [8]
    stopping:
      rule: bernoulli_cs
      min_duration: 0
      params:
        alpha: 0.05
    on_decision: hold
    refresh:
      interval: 100ms
  - name: split
    mode: ab
    weights: [0.5, 0.5]
    arms:
      - name: blue
        champion: true
      - name: green
    stopping:
      rule: fixed_horizon
      params:
        alpha: 0.05
        n_per_arm: 100000
  - name: ops
    mode: ab
    arms:
      - name: old
        champion: true
      - name: new
    stopping:
      rule: fixed_horizon
      params:
        alpha: 0.05
        n_per_arm: 100000
"""


class Daemon:
    """banditd in a temp dir with ipc endpoints; stop() checks it exits 0 on SIGTERM."""

    def __init__(self, extra_yaml=None):
        """extra_yaml(dir): top-level YAML to add (e.g. a security section)."""
        self.dir = tempfile.mkdtemp(prefix="banditd-tools-")
        self.state_dir = os.path.join(self.dir, "state")
        self.config_path = os.path.join(self.dir, "banditd.yaml")
        with open(self.config_path, "w") as f:
            if extra_yaml:
                f.write(extra_yaml(self.dir))
            f.write(CONFIG.format(dir=self.dir, models=os.path.abspath(MODEL_DIR)))
        self.log_path = os.path.join(self.dir, "banditd.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(BIN_DIR, "banditd"), "--config", self.config_path,
             "--snapshot-interval-ms", "0"],
            stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.endpoints = self._wait_for_endpoints(timeout_s=20)
        except Exception:
            self._log.close()
            raise
        self.api = self.endpoints["api"]
        self.api_extra = self.endpoints["api_extra"].split(",")
        self.rewards = self.endpoints["rewards"]
        self.admin = self.endpoints["admin"]

    def _wait_for_endpoints(self, timeout_s):
        path = os.path.join(self.state_dir, "endpoints")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("banditd exited with %d:\n%s" % (self.proc.returncode,
                                                                    self.log()))
            try:
                with open(path) as f:
                    lines = dict(l.split("=", 1) for l in f.read().split("\n") if "=" in l)
                if "metrics" in lines:  # the last line: the file is complete
                    return lines
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("banditd wrote no endpoints within %d s:\n%s" % (timeout_s,
                                                                             self.log()))

    def log(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM; returns the exit code (the daemon promises 0 within 5 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_and_cleanup(self):
        """stop(), then cleanup(); raises with the daemon's log unless it exited 0."""
        rc = self.stop()
        log = self.log()
        self.cleanup()
        if rc != 0:
            raise AssertionError("banditd exited with %s on SIGTERM:\n%s" % (rc, log))


def features(i):
    """A deterministic 8-feature input for request i."""
    return [((i * 7 + k * 3) % 11) / 10.0 for k in range(8)]
