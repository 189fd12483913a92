#!/usr/bin/env bash
# pull_bench.sh - `berth pull` vs `skopeo copy` of the same 200 MiB image (4 layers of 50 MiB of
# incompressible data, gzip) from the same local docker-registry into an OCI layout.
# Runs PULL_ROUNDS rounds (default 2, at most 5) in the order berth, skopeo, skopeo, berth, ...
# so that neither tool always goes first, each into a fresh directory; prints the best wall time
# of each, their ratio, and one machine-readable line for tests/bench/bench.sh:
#   RESULT <image MiB> <berth best s> <skopeo best s> <rounds>
# Part of `make bench` (its third table); runs alone too. Compare runs on one machine only.
# BERTH_PULL_BIN overrides the binary (default build/release/berth, else bin/berth).
# shellcheck source=../blackbox/lib_pull.sh
. "$(dirname "$0")/../blackbox/lib_pull.sh"
BERTH=${BERTH_PULL_BIN:-$PL_ROOT/build/release/berth}
[ -x "$BERTH" ] || BERTH=$PL_ROOT/bin/berth

need docker-registry skopeo python3 curl

reg_start bench "" || { echo "registry did not start"; exit 1; }
IMG=$PL_TMP/img
python3 "$FIX/mkimage.py" "$IMG" v1 --random-mib 50 --seed 11 >/dev/null
python3 - "$IMG" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
out = sys.argv[1]
bd = os.path.join(out, "blobs", "sha256")
idx = json.load(open(os.path.join(out, "index.json")))
md = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open(os.path.join(bd, md)))
cfg = json.load(open(os.path.join(bd, m["config"]["digest"].split(":")[1])))
rng = random.Random(99)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(bd, d), "wb").write(data)
    return "sha256:" + d, len(data)
for i in range(3):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = rng.randbytes(50 << 20)
        ti = tarfile.TarInfo("data/extra%d.bin" % i); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
    cfg["history"].append({"created": "1970-01-01T00:00:00Z", "created_by": "bench"})
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=1) as g:
        g.write(raw)
    d, n = put(gz.getvalue())
    m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
cd, cn = put(json.dumps(cfg).encode())
m["config"]["digest"], m["config"]["size"] = cd, cn
d, n = put(json.dumps(m).encode())
idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = d, n
json.dump(idx, open(os.path.join(out, "index.json"), "w"))
PY
push "$IMG:v1" "$REG_HOST/bench/big:v1" || { echo "push failed"; exit 1; }
SIZE=$(du -sm "$IMG/blobs" | cut -f1)

ROUNDS=${PULL_ROUNDS:-2}
case $ROUNDS in [1-5]) ;; *) echo "PULL_ROUNDS must be 1-5"; exit 1 ;; esac

# timed OUTVAR CMD...: runs CMD, stores its wall time in seconds in OUTVAR
timed() {
    local var=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" >/dev/null || return 1
    t1=$(date +%s.%N)
    printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
}
run_berth() {
    rm -rf "$PL_TMP/berth"
    timed "$1" "$BERTH" pull --quiet --plain-http --oci "$PL_TMP/berth" "$REG_HOST/bench/big:v1" ||
        { echo "berth pull failed"; exit 1; }
}
run_skopeo() {
    rm -rf "$PL_TMP/skopeo"
    timed "$1" skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/bench/big:v1" \
        "oci:$PL_TMP/skopeo:v1" || { echo "skopeo copy failed"; exit 1; }
}

BT=()
ST=()
for ((i = 0; i < ROUNDS; i++)); do
    if [ $((i % 2)) = 0 ]; then
        run_berth b
        run_skopeo s
    else
        run_skopeo s
        run_berth b
    fi
    BT+=("$b")
    ST+=("$s")
done

python3 - "$SIZE" "$ROUNDS" "${BT[*]}" "${ST[*]}" <<'PY'
import sys
size, rounds = float(sys.argv[1]), int(sys.argv[2])
bt = [float(x) for x in sys.argv[3].split()]
st = [float(x) for x in sys.argv[4].split()]
b, s = min(bt), min(st)
print("image: %d MiB, 4 layers + config; best of %d rounds" % (size, rounds))
print("berth pull:  %.2f s (%.0f MiB/s)  rounds: %s" % (b, size / b, " ".join("%.2f" % x for x in bt)))
print("skopeo copy: %.2f s (%.0f MiB/s)  rounds: %s" % (s, size / s, " ".join("%.2f" % x for x in st)))
print("ratio berth/skopeo: %.2f" % (b / s))
print("RESULT %d %.3f %.3f %d" % (size, b, s, rounds))
PY
