#!/usr/bin/env bash
# scaleout_outage.sh - what the scale-out stack answers while a backend is down (the figures of
# docs/scale-out.md, "Failure behaviour"). It starts backends of its own, since it stops them:
#   - PostgreSQL stopped: registry and API requests answer 503 UNAVAILABLE, never another 5xx and
#     never hang (each within 15 s), also through haproxy; PostgreSQL started again on the same
#     port: the replicas reconnect and serve without a restart;
#   - radosgw stopped (for good: its OSD keeps the data in memory): blob reads answer 503 within
#     the S3 client's bounded retries, and a push is refused, nothing half-written in PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

unset SCALEOUT_BACKENDS
so_up
B=$SCALEOUT_BACKENDS
REPO=library/$(rand_name out)
mk_image "$BB_TMP/img" >/dev/null
push_image "$REPO" v1 "$BB_TMP/img"
LAYER=$(digest_of "$BB_TMP/img/layer.tar.gz")

timed() { # NAME WANT_ERE METHOD PATH...: status matches, within 15 s
    local name=$1 want=$2 t0=$SECONDS
    shift 2
    req "$@" --max-time 15
    if printf '%s' "$R_STATUS" | grep -Eq "^($want)$" && [ $((SECONDS - t0)) -le 15 ]; then
        ok "$name ($R_STATUS in $((SECONDS - t0)) s)"
    else
        not_ok "$name" "status $R_STATUS after $((SECONDS - t0)) s, want $want"
        bb_resp_diag
    fi
}

# --- PostgreSQL down ---------------------------------------------------------------------------
PG_PORT=$(sed -n 's/^PG_URL=.*@127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$B/backends.env")
sh "$BB_ROOT/scripts/pg.sh" stop "$B/pg" >/dev/null 2>&1
check_false "PostgreSQL is stopped" pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
timed "manifest GET with PostgreSQL down -> 503" 503 GET "$SO_R1/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}"
check_err "its body is the spec's error" 503 UNAVAILABLE
timed "blob upload POST with PostgreSQL down -> 503" 503 POST "$SO_R2/v2/$REPO/blobs/uploads/"
timed "project list with PostgreSQL down -> 503" 503 GET "$SO_R1/api/v2.0/projects"
# a login checked against its row less than a second ago (META_REPLICA_WINDOW_MS) is still answered
# from the replica's cache; once that window has run out the row must be read again: 503
sleep 1.2
timed "authenticated /v2/ with PostgreSQL down -> 503" 503 GET "$SO_R2/v2/"
timed "through haproxy the same 503" 503 GET /v2/
# the health check's GET /v2/ without credentials needs no database: the replicas stay in, which
# is right (they share the database; taking them out would answer nothing better than 503)
req_anon GET /v2/ --max-time 15
check_status "the health check's unauthenticated GET /v2/ still answers 401" 401

out=$(sh "$BB_ROOT/scripts/pg.sh" start --fast "$B/pg" "$PG_PORT" 2>&1)
check_contains "PostgreSQL starts again on port $PG_PORT" "$out" ":$PG_PORT/"
ok_again=""
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
    req GET "$SO_R1/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}"
    [ "$R_STATUS" = 200 ] && ok_again=1 && break
    sleep 0.5
done
check_eq "replica 1 serves again without a restart" "$ok_again" 1
req GET "$SO_R2/v2/$REPO/blobs/$LAYER"
check_body_file "replica 2 serves the layer again" "$BB_TMP/img/layer.tar.gz"

# --- radosgw down ---------------------------------------------------------------------------------
RGW_PID=$(cat "$B/rgw/radosgw.pid" 2>/dev/null)
kill -TERM "$RGW_PID" 2>/dev/null
bb_wait_exit "$RGW_PID" 20
check_false "radosgw is stopped" kill -0 "$RGW_PID"
t0=$SECONDS
req GET "$SO_R1/v2/$REPO/blobs/$LAYER" --max-time 120
check_match "blob GET with the object store down -> 503 ($((SECONDS - t0)) s)" "$R_STATUS" '^503$'
bb_diag "answered in $((SECONDS - t0)) s"
mk_image "$BB_TMP/img2" >/dev/null
req POST "$SO_R2/v2/$REPO/blobs/uploads/" --max-time 120
st_post=$R_STATUS
req PUT "$SO_R2/v2/$REPO/blobs/uploads/?digest=$(digest_of "$BB_TMP/img2/layer.tar.gz")" --max-time 120 \
    -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/img2/layer.tar.gz"
req POST "$SO_R2/v2/$REPO/blobs/uploads/?digest=$(digest_of "$BB_TMP/img2/layer.tar.gz")" \
    --max-time 120 -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/img2/layer.tar.gz"
check_match "a push with the object store down is refused with 503 (POST was $st_post)" "$R_STATUS" '^503$'
req HEAD "$SO_R1/v2/$REPO/blobs/$(digest_of "$BB_TMP/img2/layer.tar.gz")" --max-time 120
check_match "and left no blob row behind (HEAD is not 200)" "$R_STATUS" '^(404|503)$'

so_down
finish
