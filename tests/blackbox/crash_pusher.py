#!/usr/bin/env python3
"""crash_pusher.py - the project's own pusher for tests/blackbox/crash_kill.sh.

  crash_pusher.py push   --url HOST:PORT --user U --password P --threads N --ack FILE
                         --keep DIR --stop FILE
  crash_pusher.py verify --url HOST:PORT --user U --password P --ack FILE --keep DIR

push: N threads push small images over and over (random layer of 1 KiB - 1 MiB, a config, an
OCI manifest under a unique tag), through the distribution API with plain HTTP: monolithic
POST+PUT, chunked POST+PATCH+PUT, or single-request POST ?digest=. The server is killed and
restarted under them: every connection error or unexpected status abandons that image and starts
a new one. Only a manifest PUT answered 201 (response read in full) is recorded, as one line
"REPO TAG DIGEST" in the ack file, with the manifest bytes kept as KEEP/<hex>.json. Stops when
the stop file exists; prints its counts.

verify: every acknowledged manifest must pull byte-identical by digest and by tag, and every blob
it lists must pull with the right SHA-256. Prints the failures; exit 1 when there is any.

Standard library only. Each thread uses its own connections; the ack file is appended under
one lock and flushed line by line, so a line is either whole or absent.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import sys
import threading
import time

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT = ", ".join([MT_MANIFEST, "application/vnd.oci.image.index.v1+json",
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


class Abandon(Exception):
    """an image push that cannot finish (server killed, unexpected answer)"""


class Client:
    def __init__(self, url, user, password):
        self.host, port = url.rsplit(":", 1)
        self.port = int(port)
        tok = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = "Basic " + tok

    def req(self, method, path, body=None, headers=None):
        h = {"Authorization": self.auth}
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp, data
        finally:
            conn.close()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def add_query(loc, q):
    return loc + ("&" if "?" in loc else "?") + q


def upload(c, repo, blob):
    d = sha(blob)
    mode = random.random()
    if mode < 0.2:  # single request
        st, _, _ = c.req("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", blob,
                         {"Content-Type": "application/octet-stream"})
        if st != 201:
            raise Abandon(f"single POST {st}")
        return d
    st, resp, _ = c.req("POST", f"/v2/{repo}/blobs/uploads/")
    if st != 202:
        raise Abandon(f"POST {st}")
    loc = resp.getheader("Location")
    if mode < 0.6:  # monolithic
        st, _, _ = c.req("PUT", add_query(loc, "digest=" + d), blob,
                         {"Content-Type": "application/octet-stream"})
    else:  # two chunks, then an empty PUT
        half = len(blob) // 2
        for lo, hi in ((0, half), (half, len(blob))):
            st, resp, _ = c.req("PATCH", loc, blob[lo:hi], {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{lo}-{hi - 1}"})
            if st != 202:
                raise Abandon(f"PATCH {st}")
            loc = resp.getheader("Location")
        st, _, _ = c.req("PUT", add_query(loc, "digest=" + d), b"")
    if st != 201:
        raise Abandon(f"PUT {st}")
    return d


class Pusher:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.acked = 0
        self.abandoned = 0
        self.ack = open(a.ack, "a", encoding="ascii")

    def push_one(self, c, tid, n):
        repo = f"library/crash{tid % 5}"
        tag = f"t{tid}-{n}-{os.urandom(3).hex()}"
        layer = os.urandom(random.choice([1024, 8192, 65536, 262144, 1048576]))
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "config": {"Labels": {"t": tag}},
                             "rootfs": {"type": "layers", "diff_ids": [sha(layer)]}},
                            separators=(",", ":")).encode()
        cd = upload(c, repo, config)
        ld = upload(c, repo, layer)
        man = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                          "config": {"mediaType": MT_CONFIG, "digest": cd, "size": len(config)},
                          "layers": [{"mediaType": MT_LAYER, "digest": ld,
                                      "size": len(layer)}]},
                         separators=(",", ":")).encode()
        md = sha(man)
        # kept before the PUT: an ack line always has its bytes
        with open(os.path.join(self.a.keep, md[7:] + ".json"), "wb") as f:
            f.write(man)
        st, resp, _ = c.req("PUT", f"/v2/{repo}/manifests/{tag}", man,
                            {"Content-Type": MT_MANIFEST})
        if st != 201:
            raise Abandon(f"manifest PUT {st}")
        if resp.getheader("Docker-Content-Digest") != md:
            raise Abandon("manifest PUT answered another digest")
        with self.lock:
            self.ack.write(f"{repo} {tag} {md}\n")
            self.ack.flush()
            self.acked += 1

    def run_thread(self, tid):
        c = Client(self.a.url, self.a.user, self.a.password)
        n = 0
        while not os.path.exists(self.a.stop):
            n += 1
            try:
                self.push_one(c, tid, n)
            except (Abandon, OSError, http.client.HTTPException):
                with self.lock:
                    self.abandoned += 1
                time.sleep(0.02)

    def run(self):
        ths = [threading.Thread(target=self.run_thread, args=(i,), daemon=True)
               for i in range(self.a.threads)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        self.ack.close()
        print(f"pusher: {self.acked} images acknowledged, {self.abandoned} abandoned")
        return 0


def verify(a):
    c = Client(a.url, a.user, a.password)
    bad = []
    n = 0
    with open(a.ack, encoding="ascii") as f:
        lines = [ln.split() for ln in f if ln.strip()]
    for repo, tag, md in lines:
        n += 1
        path = os.path.join(a.keep, md[7:] + ".json")
        want = open(path, "rb").read() if os.path.exists(path) else None
        if want is None:
            bad.append(f"{repo}:{tag} {md}: no kept bytes (skopeo push without a copy?)")
            continue
        st, _, got = c.req("GET", f"/v2/{repo}/manifests/{md}", headers={"Accept": ACCEPT})
        if st != 200 or got != want:
            bad.append(f"{repo}@{md}: GET by digest {st}, {len(got)} bytes")
            continue
        st, resp, got = c.req("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
        if st != 200 or got != want or resp.getheader("Docker-Content-Digest") != md:
            bad.append(f"{repo}:{tag}: GET by tag {st}")
            continue
        m = json.loads(want)
        for desc in [m["config"]] + m["layers"]:
            st, _, blob = c.req("GET", f"/v2/{repo}/blobs/{desc['digest']}")
            if st != 200 or sha(blob) != desc["digest"] or len(blob) != desc["size"]:
                bad.append(f"{repo}:{tag} blob {desc['digest']}: {st}, {len(blob)} bytes")
    for b in bad[:20]:
        print("verify: " + b)
    print(f"verify: {n} acknowledged manifests, {n - len(bad)} pull byte-identical, "
          f"{len(bad)} failed")
    return 1 if bad or n == 0 else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["push", "verify"])
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--threads", type=int, default=45)
    p.add_argument("--ack", required=True)
    p.add_argument("--keep", required=True)
    p.add_argument("--stop")
    a = p.parse_args()
    os.makedirs(a.keep, exist_ok=True)
    if a.mode == "push":
        return Pusher(a).run()
    return verify(a)


if __name__ == "__main__":
    sys.exit(main())
