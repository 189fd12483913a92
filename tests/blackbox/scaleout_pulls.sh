#!/usr/bin/env bash
# scaleout_pulls.sh - pull counters stay exact when the pulls are spread over two replicas: each
# replica batches its own counts and adds them to the shared rows (count = count + n), so
#   - manifest GETs on replica 1, on replica 2 and through haproxy add up exactly, for the
#     repository, the artifact and the tag, read on either replica;
#   - HEADs and 304s count nothing;
#   - pulls counted by a replica just before its SIGTERM are flushed, not lost;
#   - the hourly time series (the other table the flush writes) agrees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

so_up
API=/api/v2.0
NAME=$(rand_name pc)
REPO=library/$NAME
mk_image "$BB_TMP/img" >/dev/null
push_image "$REPO" v1 "$BB_TMP/img"

get_n() { # BASE N: N manifest GETs by tag
    local i
    for i in $(seq 1 "$2"); do
        req GET "$1/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}"
        [ "$R_STATUS" = 200 ] || return 1
    done
}
check_true "7 pulls on replica 1" get_n "$SO_R1" 7
check_true "5 pulls on replica 2" get_n "$SO_R2" 5
check_true "6 pulls through haproxy" get_n "" 6
for r in "$SO_R1" "$SO_R2"; do
    req HEAD "$r/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}"
    req GET "$r/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}" -H "If-None-Match: \"$IMG_DIGEST\""
done
check_status "If-None-Match -> 304 (not counted)" 304

counts() { # BASE: "repo artifact tag" counts as read on BASE
    local a t rc
    req GET "$1$API/projects/library/repositories/$NAME"
    rc=$(jq -r '.pull_count' "$R_BODY")
    req GET "$1$API/projects/library/repositories/$NAME/artifacts/$IMG_DIGEST"
    a=$(jq -r '.pull_count' "$R_BODY")
    req GET "$1$API/projects/library/repositories/$NAME/artifacts/v1/tags"
    t=$(jq -r '.[] | select(.name == "v1") | .pull_count' "$R_BODY")
    printf '%s %s %s' "$rc" "$a" "$t"
}
# wait_counts WANT: until both replicas read WANT (each flushes within pull_flush_s = 1 s)
wait_counts() {
    local deadline=$((SECONDS + 15))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(counts "$SO_R1")" = "$1" ] && [ "$(counts "$SO_R2")" = "$1" ] && return 0
        sleep 0.3
    done
    return 1
}
wait_counts "18 18 18"
check_eq "repository, artifact, tag counts on replica 1" "$(counts "$SO_R1")" "18 18 18"
check_eq "the same on replica 2" "$(counts "$SO_R2")" "18 18 18"

# the hourly series sums to the same
req GET "$SO_R2$API/projects/library/repositories/$NAME/pulls/timeseries?granularity=hour&group_by=tag"
check_jq "hourly series of tag v1 on replica 2 sums to 18" \
    '[.series[] | select(.key == "v1") | .pulls] | add == 18'

# pulls made just before a SIGTERM are flushed at shutdown
check_true "4 pulls on replica 2" get_n "$SO_R2" 4
so_replica stop 2
wait_counts_one() {
    local deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(counts "$SO_R1")" = "$1" ] && return 0
        sleep 0.3
    done
    return 1
}
wait_counts_one "22 22 22"
check_eq "replica 2's last pulls flushed at SIGTERM, read on replica 1" "$(counts "$SO_R1")" "22 22 22"
check_true "replica 2 starts again" so_replica start 2
check_eq "replica 2 reads the same after its restart" "$(counts "$SO_R2")" "22 22 22"
# offline, from the replicas' configuration: berth stats reads the shared PostgreSQL store
check_eq "berth stats --config reads the same from PostgreSQL" \
    "$("$BERTH_BIN" stats --config "$SO_CONF" --json "$REPO" 2>"$BB_TMP/stats.err" |
        jq -r '.repositories[0].pull_count')" 22

so_down
finish
