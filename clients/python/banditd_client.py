"""A small Python client for banditd (docs/protocol.md is the contract).

Needs python3-zmq and python3-msgpack (Debian packages; run it with
/usr/bin/python3). numpy is optional: a numpy array given as `input` is sent
as a {shape, data} float32 tensor.

    from banditd_client import Client, BanditdError

    with Client("tcp://127.0.0.1:5555", rewards="tcp://127.0.0.1:5556") as c:
        r = c.route("ctr", unit="user-42", input=[0.1] * 8)
        c.reward(r["decision"], 1)            # acked: durable when it returns
        c.reward_nowait(r["decision"], 1)     # fire-and-forget on the PULL socket
        print(c.status("ctr")["arms"])
"""

import itertools
import time

import msgpack
import zmq
import zmq.utils.z85

__all__ = ["Client", "BanditdError", "BanditdTimeout", "load_key"]


class BanditdError(Exception):
    """An error reply: `code` is the stable wire code (e.g. "unknown_decision")."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class BanditdTimeout(BanditdError, TimeoutError):
    """No reply within the client's timeout (code "timeout", a client-side code)."""

    def __init__(self, message):
        super().__init__("timeout", message)


def _input_value(value):
    """A numpy array becomes a {shape, data} float32 tensor; anything else a list of floats."""
    if hasattr(value, "shape") and hasattr(value, "astype") and hasattr(value, "tobytes"):
        import numpy  # only when the caller already uses numpy

        arr = numpy.ascontiguousarray(value, dtype="<f4")
        return {"shape": [int(d) for d in arr.shape], "data": arr.tobytes()}
    return [float(x) for x in value]


def load_key(path):
    """The Z85 key (bytes) of a key file as `banditctl keygen` writes it.

    One 40-character Z85 line; blank lines and lines starting with '#' are
    ignored. Raises ValueError on anything else.
    """
    with open(path, "rb") as f:
        lines = [l.strip() for l in f.read(4097).splitlines()]
    keys = [l for l in lines if l and not l.startswith(b"#")]
    if len(keys) != 1 or len(keys[0]) != 40:
        raise ValueError("%s: expected one Z85 key of 40 characters" % path)
    try:
        zmq.utils.z85.decode(keys[0])
    except Exception:  # pyzmq raises various errors for bad characters
        raise ValueError("%s: not a Z85 key" % path) from None
    return keys[0]


def _key_text(key):
    """A Z85 key given as text/bytes of 40 characters, or a key file path."""
    if isinstance(key, str):
        key = key.encode()
    if len(key) == 40 and not key.endswith((b".pub", b".key")):
        return key
    return load_key(key.decode())


class Client:
    """One DEALER connection to the `api` socket (and optionally others).

    Every request carries an integer `id`; a reply with another id (a late
    answer to a request that timed out) is dropped, so a timeout never
    shifts later replies onto the wrong request. Not thread-safe: use one
    Client per thread (ZeroMQ sockets belong to one thread).
    """

    def __init__(self, api, rewards=None, admin=None, timeout_ms=5000, context=None,
                 server_key=None, client_key=None):
        """api: the api endpoint, or a list of them (the daemon's
        sockets.api + sockets.api_extra): requests then go to each in turn.
        server_key: the daemon's CURVE public key (a .pub file or Z85);
        client_key: this client's secret key (a .key file or Z85; its public
        key is derived). Both or neither: with them every socket is a CURVE
        client. A refused key looks like a timeout (BanditdTimeout)."""
        self._ctx = context or zmq.Context.instance()
        self.timeout_ms = int(timeout_ms)
        self._curve = None
        if (server_key is None) != (client_key is None):
            raise ValueError("CURVE needs both server_key and client_key")
        if server_key is not None:
            secret = _key_text(client_key)
            self._curve = (_key_text(server_key), zmq.curve_public(secret), secret)
        self._ids = itertools.count(1)
        self._api = self._dealer(api)
        self._admin = self._dealer(admin) if admin else None
        self._push = None
        if rewards:
            self._push = self._ctx.socket(zmq.PUSH)
            self._set_curve(self._push)
            # Queued fire-and-forget rewards get this long to leave at close().
            self._push.setsockopt(zmq.LINGER, self.timeout_ms)
            self._push.setsockopt(zmq.SNDTIMEO, self.timeout_ms)
            self._push.connect(rewards)

    def _set_curve(self, s):
        if self._curve:
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = self._curve

    def _dealer(self, endpoints):
        s = self._ctx.socket(zmq.DEALER)
        self._set_curve(s)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDTIMEO, self.timeout_ms)
        # A DEALER connected to several endpoints sends to each in turn.
        for endpoint in [endpoints] if isinstance(endpoints, str) else endpoints:
            s.connect(endpoint)
        return s

    # -- plumbing ---------------------------------------------------------

    def _call(self, socket, request):
        rid = next(self._ids)
        request = dict(request, id=rid)
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        try:
            socket.send(msgpack.packb(request, use_bin_type=True))
        except zmq.Again:
            raise BanditdTimeout("could not send within %d ms" % self.timeout_ms) from None
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not socket.poll(left_ms, zmq.POLLIN):
                raise BanditdTimeout(
                    "no reply to '%s' within %d ms" % (request["op"], self.timeout_ms))
            reply = msgpack.unpackb(socket.recv(), raw=False)
            # A reply with another id answers an earlier, abandoned request. A
            # reply without one is ours: the daemon could not read the request
            # far enough to find its id (e.g. a frame over the size limit).
            if not isinstance(reply, dict) or reply.get("id", rid) != rid:
                continue
            if not reply.get("ok"):
                error = reply.get("error") or {}
                raise BanditdError(error.get("code", "internal"), error.get("message", ""))
            return reply

    def _admin_call(self, request):
        if self._admin is None:
            raise ValueError("this Client has no admin endpoint (Client(..., admin=...))")
        self._call(self._admin, request)

    # -- api socket -------------------------------------------------------

    def route(self, exp, unit=None, input=None, context=None, arm=None):
        """Chooses an arm (and runs its model when it hosts one).

        Returns {decision, arm, p, epoch, output, served_by}; output is a
        list of floats or None, served_by names the arm whose model answered
        when it is not `arm` (None otherwise).
        """
        req = {"op": "route", "exp": exp}
        if unit is not None:
            req["unit"] = str(unit)
        if input is not None:
            req["input"] = _input_value(input)
        if context is not None:
            req["context"] = [float(x) for x in context]
        if arm is not None:
            req["arm"] = arm
        r = self._call(self._api, req)
        return {
            "decision": r["decision"],
            "arm": r["arm"],
            "p": r["p"],
            "epoch": r["epoch"],
            "output": r.get("output"),
            "served_by": r.get("served_by"),
        }

    def reward(self, decision, value, at=None):
        """An acked reward: returns once banditd has made it durable."""
        req = {"op": "reward", "decision": decision, "value": float(value)}
        if at is not None:
            req["at"] = float(at)
        self._call(self._api, req)

    def rewards(self, items):
        """A batch of (decision, value) pairs, acked.

        Returns {"accepted": n, "rejected": [{"decision": d, "code": c}, ...]}.
        """
        r = self._call(self._api, {"op": "rewards", "items": _items(items)})
        return {"accepted": r["accepted"], "rejected": list(r.get("rejected") or [])}

    def status(self, exp=None):
        """The report of one experiment (a dict), or a list of all reports."""
        req = {"op": "status"}
        if exp is not None:
            req["exp"] = exp
        reports = self._call(self._api, req)["experiments"]
        return reports[0] if exp is not None else reports

    # -- rewards socket (fire-and-forget) ----------------------------------

    def reward_nowait(self, decision, value):
        """Pushes one reward without waiting; nothing tells you if it was refused."""
        self._send_push({"op": "reward", "decision": decision, "value": float(value)})

    def rewards_nowait(self, items):
        self._send_push({"op": "rewards", "items": _items(items)})

    def _send_push(self, msg):
        if self._push is None:
            raise ValueError("this Client has no rewards endpoint (Client(..., rewards=...))")
        try:
            self._push.send(msgpack.packb(msg, use_bin_type=True))
        except zmq.Again:
            raise BanditdTimeout("could not queue within %d ms" % self.timeout_ms) from None

    # -- admin socket -----------------------------------------------------

    def promote(self, exp, arm):
        self._admin_call({"op": "promote", "exp": exp, "arm": arm})

    def pause(self, exp):
        self._admin_call({"op": "pause", "exp": exp})

    def resume(self, exp):
        self._admin_call({"op": "resume", "exp": exp})

    def ack_srm(self, exp):
        """Acknowledges the experiment's sample-ratio-mismatch alarm (after the
        cause is found and fixed): decisions resume and the check starts afresh.
        bad_request when no alarm is raised."""
        self._admin_call({"op": "ack_srm", "exp": exp})

    def reload(self, exp):
        self._admin_call({"op": "reload", "exp": exp})

    def snapshot(self):
        self._admin_call({"op": "snapshot"})

    # -- lifetime ---------------------------------------------------------

    def close(self):
        for s in (self._api, self._admin, self._push):
            if s is not None:
                s.close()
        self._api = self._admin = self._push = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _items(items):
    return [[decision, float(value)] for decision, value in items]
