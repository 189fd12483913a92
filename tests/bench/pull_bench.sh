#!/usr/bin/env bash
# pull_bench.sh - `berth pull` vs `skopeo copy` of the same 200 MiB image (4 layers of 50 MiB of
# incompressible data, gzip) from the same local docker-registry into an OCI layout.
# Prints both wall times and their ratio. Outside `make test`; compare runs on one machine only.
# BERTH_PULL_BIN overrides the binary (default build/release/berth, else bin/berth).
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

t0=$(date +%s.%N)
"$BERTH" pull --quiet --plain-http --oci "$PL_TMP/berth" "$REG_HOST/bench/big:v1" >/dev/null || { echo "berth pull failed"; exit 1; }
t1=$(date +%s.%N)
skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/bench/big:v1" "oci:$PL_TMP/skopeo:v1" >/dev/null || { echo "skopeo copy failed"; exit 1; }
t2=$(date +%s.%N)

python3 - "$t0" "$t1" "$t2" "$SIZE" <<'PY'
import sys
t0, t1, t2, size = map(float, sys.argv[1:])
b, s = t1 - t0, t2 - t1
print("image: %d MiB, 4 layers + config" % size)
print("berth pull:  %.2f s (%.0f MiB/s)" % (b, size / b))
print("skopeo copy: %.2f s (%.0f MiB/s)" % (s, size / s))
print("ratio berth/skopeo: %.2f" % (b / s))
PY
