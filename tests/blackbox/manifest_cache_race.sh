#!/usr/bin/env bash
# manifest_cache_race.sh - manifest GETs and HEADs racing with writes to the same tag: tag moves,
# re-pushes of the same manifest, tag deletes, manifest deletes by digest and pushes back, from
# one writer while eight readers (Basic auth, keep-alive) fetch the tag and digests. Every 200
# must carry bytes whose SHA-256 is its Docker-Content-Digest, and every answer to a request sent
# after a write was acknowledged must reflect that write or a later one (the manifest cache,
# storage/mcache.h, may never answer from before an acknowledged write). Run twice: with the
# default cache, then with manifest_cache_tag_ttl_ms = 60000 so that only the cache's
# invalidation, not its TTL, keeps answers fresh.
. "$(dirname "$0")/lib.sh"

race_py=$BB_TMP/race.py
cat >"$race_py" <<'PY'
import base64, hashlib, http.client, json, random, sys, threading, time

host, port, user, pw, repo, mdir, nman, rounds = sys.argv[1:9]
port, nman, rounds = int(port), int(nman), int(rounds)
auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
mt = "application/vnd.oci.image.manifest.v1+json"
mans = [open(f"{mdir}/m{i}.json", "rb").read() for i in range(nman)]
digs = ["sha256:" + hashlib.sha256(b).hexdigest() for b in mans]

# the writer's script and the tag's state after each step (states[0]: before any)
rnd = random.Random(int(time.time()))
ops, states, present = [], [None], set()
cur = None
for _ in range(rounds):
    r = rnd.random()
    if r < 0.55 or cur is None:
        k = rnd.randrange(nman)
        ops.append(("put", k)); cur = digs[k]; present.add(k)
    elif r < 0.70:
        k = digs.index(cur)
        ops.append(("put", k))  # re-push of what the tag holds
    elif r < 0.85:
        ops.append(("deltag", None)); cur = None
    else:
        k = digs.index(cur)
        ops.append(("deldig", k)); cur = None; present.discard(k)
    states.append(cur)

done = 0          # steps acknowledged
stop = False
lock = threading.Lock()
res = {"gets": 0, "heads": 0, "digest_gets": 0, "bad_hash": 0, "stale": 0, "bad_status": 0,
       "write_fail": 0}
errs = []

def conn():
    return http.client.HTTPConnection(host, port, timeout=60)

def request(c, method, path, body=None, hdrs=None):
    h = {"Authorization": auth, "Accept": mt}
    if hdrs: h.update(hdrs)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, r.getheader("Docker-Content-Digest"), data

def writer():
    global done, stop
    c = conn()
    for i, (op, k) in enumerate(ops):
        if op == "put":
            st, _, _ = request(c, "PUT", f"/v2/{repo}/manifests/t", mans[k], {"Content-Type": mt})
            ok = st == 201
        elif op == "deltag":
            st, _, _ = request(c, "DELETE", f"/v2/{repo}/manifests/t")
            ok = st in (202, 404)
        else:
            st, _, _ = request(c, "DELETE", f"/v2/{repo}/manifests/{digs[k]}")
            ok = st in (202, 404)
        if not ok:
            with lock:
                res["write_fail"] += 1
                errs.append(f"step {i} {op}: {st}")
        with lock:
            done = i + 1
    stop = True

def reader(seed):
    rr = random.Random(seed)
    c = conn()
    while not stop:
        with lock:
            start = done
        method = "HEAD" if rr.random() < 0.25 else "GET"
        by_digest = rr.random() < 0.2
        ref = digs[rr.randrange(nman)] if by_digest else "t"
        try:
            st, dcd, body = request(c, method, f"/v2/{repo}/manifests/{ref}")
        except Exception as e:  # a broken connection: count it, reconnect
            with lock:
                res["bad_status"] += 1
                errs.append(f"{method} {ref}: {e!r}")
            c = conn()
            continue
        with lock:
            end = done
            key = "heads" if method == "HEAD" else ("digest_gets" if by_digest else "gets")
            res[key] += 1
            if st not in (200, 404):
                res["bad_status"] += 1
                errs.append(f"{method} {ref}: status {st}")
                continue
            if st == 200 and method == "GET" and "sha256:" + hashlib.sha256(body).hexdigest() != dcd:
                res["bad_hash"] += 1
                errs.append(f"GET {ref}: body does not hash to {dcd}")
            if st == 200 and by_digest and dcd != ref:
                res["bad_hash"] += 1
                errs.append(f"{method} {ref}: answered {dcd}")
            if by_digest:
                continue
            seen = dcd if st == 200 else None
            # any state from the last acknowledged step before the request to the step in
            # flight when the answer came
            allowed = set(states[start:min(end + 2, len(states))])
            if seen not in allowed:
                res["stale"] += 1
                errs.append(f"{method} t: {seen} after step {start}, allowed {sorted(map(str, allowed))}")

ths = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
for t in ths: t.start()
w = threading.Thread(target=writer); w.start(); w.join()
for t in ths: t.join()
for k, v in res.items():
    print(f"RESULT {k} {v}")
for e in errs[:10]:
    print(f"# {e}")
PY

# race_round LABEL: one writer script against the running server
race_round() {
    local label=$1 out n
    out=$(python3 "$race_py" "$SRV_HOST" "$SRV_PORT" "$ADMIN_USER" "$ADMIN_PASS" "$repo" "$BB_TMP/m" \
        6 "${RACE_ROUNDS:-120}")
    grep '^# ' <<<"$out" || true
    res() { sed -n "s/^RESULT $1 //p" <<<"$out"; }
    check_eq "$label: every write acknowledged" "$(res write_fail)" 0
    check_eq "$label: every answer 200 or 404" "$(res bad_status)" 0
    check_eq "$label: every body hashes to its Docker-Content-Digest" "$(res bad_hash)" 0
    check_eq "$label: no answer older than an acknowledged write" "$(res stale)" 0
    n=$(res gets)
    check_true "$label: readers made tag GETs ($n) and HEADs ($(res heads))" test "${n:-0}" -gt 50
}

prepare() {
    repo=library/$(rand_name race)
    img=$BB_TMP/img
    mk_image "$img" >/dev/null
    push_blob "$repo" "$img/config.json"
    push_blob "$repo" "$img/layer.tar.gz"
    mkdir -p "$BB_TMP/m"
    for i in 0 1 2 3 4 5; do
        jq -c --arg v "$i" '. + {annotations: {"race.v": $v}}' "$img/manifest.json" | tr -d '\n' \
            >"$BB_TMP/m/m$i.json"
    done
}

srv_start
SRV_HOST=${SRV_HOSTPORT%:*}
prepare
race_round "default cache"
srv_stop

printf 'manifest_cache_tag_ttl_ms = 60000\n' >"$BB_TMP/long.conf"
BB_SERVE_ARGS="--config $BB_TMP/long.conf" srv_start
SRV_HOST=${SRV_HOSTPORT%:*}
prepare
race_round "tag entries kept 60 s"
finish
