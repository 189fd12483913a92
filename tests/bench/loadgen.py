#!/usr/bin/env python3
"""loadgen.py - the benchmark's load generator for pushes (wrk only does reads).

    loadgen.py MODE --port P --auth B64 [--seconds S] [--procs N] [--repo R]
               [--size BYTES] [--chunk BYTES]

MODE is one of
    push     monolithic pushes of small unique blobs into REPO: POST, then PUT ?digest= with
             the bytes (one op = one blob stored)
    chunked  uploads of SIZE-byte unique blobs into REPO in CHUNK-byte PATCHes with
             Content-Range, closed by PUT ?digest= (one op = one blob; bytes = bytes sent)

Only 127.0.0.1 is ever contacted; every worker stops at its deadline. Prints one line
    RESULT <ops> <bytes> <duration_us> <errors>
where errors counts unexpected statuses and connection failures."""

import argparse
import hashlib
import http.client
import multiprocessing
import os
import struct
import sys
import time
import urllib.parse

HOST = "127.0.0.1"


def path_of(location):
    """The path and query of a Location header (absolute or relative)."""
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def with_query(path, arg):
    return path + ("&" if "?" in path else "?") + arg


class Worker:
    def __init__(self, args, seed):
        self.args = args
        self.seed = seed
        self.auth = {"Authorization": "Basic " + args.auth}
        self.conn = None
        self.ops = 0
        self.bytes = 0
        self.errors = 0

    def connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection(HOST, self.args.port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        h = dict(self.auth)
        if headers:
            h.update(headers)
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
            return r.status, r.getheader("Location", ""), data
        except (OSError, http.client.HTTPException):
            self.errors += 1
            self.connect()
            return 0, "", b""

    def push(self):
        blob = struct.pack("<QQ", self.seed, self.ops + self.errors) + os.urandom(1008)
        dg = "sha256:" + hashlib.sha256(blob).hexdigest()
        st, loc, _ = self.call("POST", "/v2/%s/blobs/uploads/" % self.args.repo)
        if st != 202 or not loc:
            self.errors += 1
            return
        st, _, _ = self.call("PUT", with_query(path_of(loc), "digest=" + dg), body=blob,
                             headers={"Content-Type": "application/octet-stream"})
        if st == 201:
            self.ops += 1
            self.bytes += len(blob)
        else:
            self.errors += 1

    def chunked(self, data):
        n = self.ops + self.errors
        data[0:16] = struct.pack("<QQ", self.seed, n)
        dg = "sha256:" + hashlib.sha256(data).hexdigest()
        st, loc, _ = self.call("POST", "/v2/%s/blobs/uploads/" % self.args.repo)
        if st != 202 or not loc:
            self.errors += 1
            return
        view = memoryview(data)
        off = 0
        while off < len(data):
            end = min(off + self.args.chunk, len(data))
            st, loc2, _ = self.call("PATCH", path_of(loc), body=view[off:end],
                                    headers={"Content-Type": "application/octet-stream",
                                             "Content-Range": "%d-%d" % (off, end - 1)})
            if st != 202:
                self.errors += 1
                return
            loc = loc2 or loc
            self.bytes += end - off
            off = end
        st, _, _ = self.call("PUT", with_query(path_of(loc), "digest=" + dg),
                             headers={"Content-Length": "0"})
        if st == 201:
            self.ops += 1
        else:
            self.errors += 1


def run(arg_tuple):
    """One worker: set up, then loop for args.seconds; returns (ops, bytes, errors, elapsed)."""
    args, seed = arg_tuple
    w = Worker(args, seed)
    w.connect()
    data = None
    if args.mode == "chunked":
        # a repeated random MiB: cheap to make; the first 16 bytes make every blob unique
        mib = os.urandom(1 << 20)
        data = bytearray((mib * (args.size // len(mib) + 1))[:args.size])
    t0 = time.monotonic()
    deadline = t0 + args.seconds
    while time.monotonic() < deadline:
        if args.mode == "push":
            w.push()
        else:
            w.chunked(data)
    w.conn.close()
    return w.ops, w.bytes, w.errors, time.monotonic() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["push", "chunked"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--auth", required=True, help="base64 of user:password")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--repo", default="library/bench")
    p.add_argument("--size", type=int, default=64 << 20)
    p.add_argument("--chunk", type=int, default=8 << 20)
    args = p.parse_args()
    if not 0 < args.seconds <= 60:
        p.error("--seconds must be in (0, 60]")
    seed0 = int.from_bytes(os.urandom(4), "little") << 16
    with multiprocessing.Pool(args.procs) as pool:
        res = pool.map(run, [(args, seed0 + i) for i in range(args.procs)])
    dur = max(r[3] for r in res)
    ops = sum(r[0] for r in res)
    nbytes = sum(r[1] for r in res)
    errors = sum(r[2] for r in res)
    print("RESULT %d %d %d %d" % (ops, nbytes, int(dur * 1e6), errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
