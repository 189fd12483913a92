#!/usr/bin/env python3
"""conn_churn.py - the client side of http_conn_churn.sh: many connections to 127.0.0.1.

    conn_churn.py abandon PORT N AUTH PATH
        opens N connections at once and leaves them in five ways, N/5 each, then closes them
        all without reading a byte of any answer:
          idle      connects, sends nothing
          partial   sends half a request line and header block
          inflight  sends a whole GET of PATH with Basic AUTH (base64 user:password; "random":
                    a user and password of its own, each needing a password check of its own)
          halfclose sends the whole GET, then shutdown(SHUT_WR) (the client is done sending)
          body      sends a PUT with Content-Length 1 MiB and 64 KiB of it
        prints "abandoned N".
    conn_churn.py round PORT N AUTH PATH [REPS]
        N keep-alive connections at once, each sends REPS (default 1) GETs of PATH (Basic AUTH)
        one after the other on the same connection, reading each whole answer (Content-Length
        framing); every connection stays open until all are done. Prints
        "round ANSWERS STATUS=COUNT... SECONDS" and exits 0 when all N * REPS were answered
        within 60 s (a connection the server closed counts as "closed" and fails it).

Only 127.0.0.1 is contacted; every wait is bounded."""

import selectors
import socket
import sys
import time

HOST = "127.0.0.1"


def get_req(path, auth):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
            "Accept: application/vnd.oci.image.manifest.v1+json\r\n\r\n" % (path, HOST, auth)).encode()


def connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((HOST, port))
    return s


def abandon(port, n, auth, path):
    import base64
    import os
    kinds = ["idle", "partial", "inflight", "halfclose", "body"]
    pending = {}
    sel = selectors.DefaultSelector()
    for i in range(n):  # all at once: non-blocking connects, each sends as soon as it is up
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((HOST, port))
        pending[s] = kinds[i % len(kinds)]
        sel.register(s, selectors.EVENT_WRITE, i)
    deadline = time.monotonic() + 5
    sent = 0
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s, i = key.fileobj, key.data
            sel.unregister(s)
            k = pending[s]
            a = auth
            if auth == "random":
                a = base64.b64encode(b"churn%d:%s" % (i, os.urandom(6).hex().encode())).decode()
            req = get_req(path, a)
            try:
                s.setblocking(True)
                s.settimeout(2)
                if k == "partial":
                    s.sendall(req[: len(req) // 2])
                elif k == "inflight":
                    s.sendall(req)
                elif k == "halfclose":
                    s.sendall(req)
                    s.shutdown(socket.SHUT_WR)
                elif k == "body":
                    s.sendall(("PUT /v2/library/churn/blobs/uploads/x HTTP/1.1\r\nHost: %s\r\n"
                               "Authorization: Basic %s\r\nContent-Length: %d\r\n\r\n"
                               % (HOST, a, 1 << 20)).encode())
                    s.sendall(b"\0" * (64 << 10))
                sent += 1
            except OSError:
                pass
    time.sleep(0.2)  # let the server read (and start serving) some of them
    for s in pending:
        s.close()
    print("abandoned %d (%d connected)" % (len(pending), sent))
    return 0


def parse_answer(buf):
    """(status, total length) of the first whole answer in buf, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if len(buf) < end + 4 + length:
        return None
    return status, end + 4 + length


def round_(port, n, auth, path, reps=1):
    req = get_req(path, auth)
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((HOST, port))
        sel.register(s, selectors.EVENT_WRITE, {"buf": b"", "sent": False, "left": reps})
    statuses = {}
    answered = 0
    done = []
    deadline = t0 + 60
    while answered < n * reps and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.2):
            s, st = key.fileobj, key.data
            try:
                if not st["sent"]:
                    s.sendall(req)
                    st["sent"] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if not d:
                statuses["closed"] = statuses.get("closed", 0) + 1
                sel.unregister(s)
                s.close()
                answered += st["left"]
                continue
            st["buf"] += d
            a = parse_answer(st["buf"])
            if a is not None:
                statuses[str(a[0])] = statuses.get(str(a[0]), 0) + 1
                answered += 1
                st["buf"] = st["buf"][a[1]:]
                st["left"] -= 1
                if st["left"] > 0:
                    s.sendall(req)  # small: fits the socket buffer
                else:
                    sel.unregister(s)
                    done.append(s)  # kept open until every connection is done
    secs = time.monotonic() - t0
    for s in done:
        s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print("round %d %s %.2f" % (sum(v for k, v in statuses.items() if k != "closed"),
                                " ".join("%s=%d" % kv for kv in sorted(statuses.items())), secs))
    return 0 if statuses.get("closed", 0) == 0 and len(done) == n else 1


def main():
    if len(sys.argv) not in (6, 7) or sys.argv[1] not in ("abandon", "round"):
        print(__doc__, file=sys.stderr)
        return 2
    port, n, auth, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    if sys.argv[1] == "abandon":
        return abandon(port, n, auth, path)
    return round_(port, n, auth, path, int(sys.argv[6]) if len(sys.argv) == 7 else 1)


if __name__ == "__main__":
    sys.exit(main())
