#!/usr/bin/python3
"""Writes the protocol fuzz seed corpus (tests/fuzz/corpus/): valid requests
of every op and a range of malformed frames. Deterministic; re-run it after
changing the protocol:  /usr/bin/python3 tests/fuzz/make_corpus.py"""
import math
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def p(obj):
    return msgpack.packb(obj, use_bin_type=True)


def tensor(shape, values):
    return {"shape": shape, "data": struct.pack("<%df" % len(values), *values)}


def nest(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


seeds = {
    # valid requests, one per op and form
    "route_min": p({"op": "route", "exp": "ctr"}),
    "route_unit": p({"op": "route", "exp": "ctr", "unit": "u1", "id": 7}),
    "route_numbers": p({"op": "route", "exp": "ctr", "input": [0.1, 0.2, -3, 4, 0, 1, 2, 3]}),
    "route_tensor": p({"op": "route", "exp": "ctr", "input": tensor([2, 4], list(range(8)))}),
    "route_context": p({"op": "route", "exp": "ctr", "context": [1.0, 0.5], "arm": "challenger"}),
    "route_all": p({"op": "route", "id": {"k": [1, "x"]}, "exp": "ctr", "unit": "u",
                    "input": tensor([1, 2], [1, 2]), "context": [0], "arm": "a", "extra": None}),
    "reward": p({"op": "reward", "decision": "d1", "value": 1}),
    "reward_at": p({"op": "reward", "decision": "d1", "value": 0.5, "at": 1700000000.5}),
    "rewards": p({"op": "rewards", "items": [["a", 1], ["b", 0.0], ["c", -1]]}),
    "rewards_nan": p({"op": "rewards", "items": [["a", float("nan")], ["b", 1]]}),
    "status": p({"op": "status"}),
    "status_exp": p({"op": "status", "exp": "ctr", "id": "req-1"}),
    "promote": p({"op": "promote", "exp": "ctr", "arm": "challenger"}),
    "pause": p({"op": "pause", "exp": "ctr"}),
    "resume": p({"op": "resume", "exp": "ctr"}),
    "reload": p({"op": "reload", "exp": "ctr"}),
    "snapshot": p({"op": "snapshot", "id": b"\x00\x01"}),
    # malformed
    "empty": b"",
    "array_bomb": bytes.fromhex("ddff000000"),
    "map_bomb": bytes.fromhex("dfffffffff"),
    "str_bomb": bytes.fromhex("dbffffffff61"),
    "bin_bomb": bytes.fromhex("81a26964c67fffffff00"),
    "reserved": bytes.fromhex("c1"),
    "garbage": b"hello world",
    "truncated": p({"op": "route", "exp": "ctr"})[:-2],
    "trailing": p({"op": "snapshot"}) + b"\x00",
    "root_array": p(["op", "route"]),
    "deep": p({"op": "status", "id": nest(20)}),
    "unknown_op": p({"op": "explode"}),
    "op_int": p({"op": 1}),
    "int_key": p({1: 2, "op": "status"}),
    "dup_key": bytes.fromhex("83a26f70a6737461747573a3657870a161a3657870a162"),
    "input_nan": p({"op": "route", "exp": "x", "input": [math.nan]}),
    "input_bad_shape": p({"op": "route", "exp": "x", "input": tensor([2, 4], [1] * 7)}),
    "input_inf_tensor": p({"op": "route", "exp": "x", "input": tensor([1], [math.inf])}),
    "context_inf": p({"op": "route", "exp": "x", "context": [math.inf]}),
    "reward_inf": p({"op": "reward", "decision": "d", "value": math.inf}),
    "reward_str": p({"op": "reward", "decision": "d", "value": "1"}),
    "rewards_bad_item": p({"op": "rewards", "items": [["a"]]}),
    "nested_claim": bytes.fromhex("82a26f70a6737461747573a26964dc00c8010203"),
    "ext_id": p({"op": "status", "id": msgpack.ExtType(5, b"abcd")}),
    # found by fuzzing: maps nested as map keys (MsgpackToJson was 2^depth)
    "regress_nested_map_keys": b"\x81" * 30 + b"\x01" + bytes(range(30)),
    # replies (the client-side decoders are fuzzed too)
    "reply_route": p({"ok": True, "id": 7, "decision": "d1", "arm": "champion", "p": 0.5,
                      "epoch": 3, "output": [0.25]}),
    "reply_error": p({"ok": False, "error": {"code": "bad_request", "message": "empty frame"}}),
    "reply_rewards": p({"ok": True, "accepted": 2, "rejected": [{"decision": "x",
                                                                  "code": "unknown_decision"}]}),
    "reply_status": p({"ok": True, "experiments": [{
        "name": "ctr", "mode": "bandit", "policy": "thompson", "epoch": 1, "state": "running",
        "winner": None, "reason": "", "arms": [{
            "name": "champion", "n": 10, "reward_sum": 1.0, "mean": 0.1, "ci95": [0.0, 0.3],
            "allocation": 0.5, "p_best": 0.4, "model_p99_ms": None, "errors": 0}],
        "test": None, "srm_p_value": 0.9}]}),
}

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), OUT))
