#!/usr/bin/env bash
# pull_retry.sh - `berth pull` retries: distribution 2.8 behind tests/fixtures/pull/faultproxy.py,
# which fails the first N requests of a kind. Checks, from the pull's result and the proxy's log:
# a 429 with Retry-After is retried after the delay the registry asked for; 503s on blobs are
# retried with back-off; a connection reset mid-body is resumed with a Range request from the
# byte where it broke (the blob still verifies); a permanent 500 gives up after --retries with
# an error that says so.
. "$(dirname "$0")/lib_pull.sh"

need docker-registry skopeo python3 curl jq

reg_start up "" || { not_ok "registry starts"; finish; }
UP=$REG_HOST
python3 "$FIX/mkimage.py" "$PL_TMP/img" v1 --random-mib 2 --layers 2 --seed 31 >"$PL_TMP/img.d"
WANT=$(cat "$PL_TMP/img.d")
push "$PL_TMP/img:v1" "$UP/test/retry:v1" || { not_ok "push"; finish; }
BIG=$(jq -r '.layers[1].digest' "$PL_TMP/img/blobs/sha256/${WANT#sha256:}")
BIGSZ=$(jq -r '.layers[1].size' "$PL_TMP/img/blobs/sha256/${WANT#sha256:}")

CTL=$PL_TMP/faults.json
PLOG=$PL_TMP/proxy.log
: >"$PLOG"
: >"$CTL"
python3 "$FIX/faultproxy.py" --upstream "$UP" --portfile "$PL_TMP/proxy.port" --log "$PLOG" \
    --control "$CTL" >"$PL_TMP/proxy.out" 2>&1 &
PL_PIDS="$PL_PIDS $!"
wait_until 10 test -s "$PL_TMP/proxy.port" || { not_ok "fault proxy starts" "$(cat "$PL_TMP/proxy.out")"; finish; }
H=127.0.0.1:$(cat "$PL_TMP/proxy.port")
IMG=$H/test/retry:v1

# scenario NAME JSON: new rules (counters restart), a fresh log and output dir
scenario() {
    SC=$1
    printf '%s' "$2" >"$CTL"
    : >"$PLOG"
}
run() { # ARGS...: pull through the proxy; RC, $PL_TMP/$SC.out, $PL_TMP/$SC.err
    "$BERTH" pull --plain-http --verbose "$@" --oci "$PL_TMP/o.$SC" "$IMG" \
        >"$PL_TMP/$SC.out" 2>"$PL_TMP/$SC.err"
    RC=$?
}
diag() { echo "exit $RC"; tail -n 12 "$PL_TMP/$SC.err"; echo "proxy log:"; cat "$PLOG"; }
layout_ok() {
    local f
    for f in "$PL_TMP/o.$SC"/blobs/sha256/*; do
        [ "$(blob_sha "$f")" = "$(basename "$f")" ] || return 1
    done
}

scenario clean '{"rules": []}'
run
check_eq "through the proxy, no faults: exit 0 and digest" "$RC:$(cat "$PL_TMP/$SC.out")" "0:$WANT"

# --- 429 with Retry-After: 2 on the manifest; the back-off alone would wait 100 ms
scenario r429 '{"rules": [{"kind": "manifest", "action": "status", "status": 429, "count": 1, "retry_after": 2}]}'
run --backoff-ms 100
check_eq "429 + Retry-After: exit 0 and digest" "$RC:$(cat "$PL_TMP/$SC.out")" "0:$WANT"
t429=$(awk '$2 == "manifest" && $5 == "inject" && $6 == 429 { print $1; exit }' "$PLOG")
t200=$(awk '$2 == "manifest" && $5 == "pass" && $6 == 200 { print $1; exit }' "$PLOG")
if [ -n "$t429" ] && [ -n "$t200" ] && awk -v a="$t429" -v b="$t200" 'BEGIN { exit !(b - a >= 1.9 && b - a < 6) }'; then
    ok "429 + Retry-After: retried once, after the 2 s the registry asked for"
else
    not_ok "429 + Retry-After: retried after 2 s" "429 at '$t429', 200 at '$t200'" "$(diag)"
fi
if grep -q "registry answered 429; retry in 2000 ms" "$PL_TMP/$SC.err"; then
    ok "429 + Retry-After: --verbose names the delay"
else
    not_ok "429 + Retry-After: --verbose names the delay" "$(diag)"
fi

# --- 503 on the first two blob requests
scenario r503 '{"rules": [{"kind": "blob", "action": "status", "status": 503, "count": 2}]}'
run --backoff-ms 100
check_eq "503 on blobs: exit 0 and digest" "$RC:$(cat "$PL_TMP/$SC.out")" "0:$WANT"
check_eq "503 on blobs: the proxy failed two blob requests" \
    "$(awk '$2 == "blob" && $5 == "inject" && $6 == 503' "$PLOG" | wc -l)" 2
check_eq "503 on blobs: every blob then passed (config and 4 layers)" \
    "$(awk '$2 == "blob" && $5 == "pass" && $6 == 200 { print $4 }' "$PLOG" | sort -u | wc -l)" 5
if grep -q "retries 2$" "$PL_TMP/$SC.err"; then ok "503 on blobs: the client counted 2 retries"; else
    not_ok "503 on blobs: the client counted 2 retries" "$(diag)"
fi
check "503 on blobs: every blob verifies" layout_ok

# --- connection reset in the middle of the big layer's body
scenario reset "{\"rules\": [{\"kind\": \"blob\", \"action\": \"reset\", \"after\": 524288, \"count\": 1, \"match\": \"$BIG\"}]}"
run --backoff-ms 100
check_eq "reset mid-body: exit 0 and digest" "$RC:$(cat "$PL_TMP/$SC.out")" "0:$WANT"
check_eq "reset mid-body: the proxy cut the big layer after 512 KiB" \
    "$(awk -v d="$BIG" '$2 == "blob" && index($4, d) && $5 == "reset" { print $6 " " $8 }' "$PLOG")" "200 524288"
check_eq "reset mid-body: the retry was a Range request answered 206" \
    "$(awk -v d="$BIG" '$2 == "blob" && index($4, d) && $5 == "pass" { print $6 }' "$PLOG")" 206
if grep -q "ranged 1, retries 1$" "$PL_TMP/$SC.err"; then ok "reset mid-body: one retry, one ranged answer"; else
    not_ok "reset mid-body: one retry, one ranged answer" "$(diag)"
fi
check_eq "reset mid-body: the big layer verifies" \
    "$(blob_sha "$PL_TMP/o.$SC/blobs/sha256/${BIG#sha256:}")" "${BIG#sha256:}"
check_eq "reset mid-body: it has its full size" "$(stat -c %s "$PL_TMP/o.$SC/blobs/sha256/${BIG#sha256:}")" "$BIGSZ"

# --- a permanent 500: give up after --retries 2 (3 attempts), clear error
scenario p500 '{"rules": [{"kind": "manifest", "action": "status", "status": 500, "count": -1}]}'
run --retries 2 --backoff-ms 50
check_eq "permanent 500: exit 1" "$RC" 1
check_eq "permanent 500: three attempts (first + 2 retries), no more" \
    "$(awk '$2 == "manifest" && $5 == "inject" && $6 == 500' "$PLOG" | wc -l)" 3
if grep -q "error: .*registry answered HTTP 500: injected by faultproxy (500) (gave up after 2 retries)" "$PL_TMP/$SC.err"; then
    ok "permanent 500: the error gives the status, the registry's message and the retries"
else
    not_ok "permanent 500: clear error" "$(diag)"
fi
check_eq "permanent 500: nothing written" "$(find "$PL_TMP/o.$SC/blobs/sha256" -type f 2>/dev/null | wc -l)" 0

# --- a permanent reset of a blob: gives up too, the partial file stays for a later resume
scenario preset "{\"rules\": [{\"kind\": \"blob\", \"action\": \"reset\", \"after\": 65536, \"count\": -1, \"match\": \"$BIG\"}]}"
run --retries 1 --backoff-ms 50
check_eq "permanent reset: exit 1" "$RC" 1
if grep -q "error: .*gave up after 1 retry" "$PL_TMP/$SC.err"; then
    ok "permanent reset: the error says it gave up after the retry"
else
    not_ok "permanent reset: the error says it gave up" "$(diag)"
fi
check_eq "permanent reset: the partial blob is kept (2 x 64 KiB)" \
    "$(stat -c %s "$PL_TMP/o.$SC/blobs/sha256/${BIG#sha256:}.partial" 2>/dev/null)" 131072
scenario resume '{"rules": []}'
"$BERTH" pull --plain-http --verbose --oci "$PL_TMP/o.preset" "$IMG" >"$PL_TMP/$SC.out" 2>"$PL_TMP/$SC.err"
RC=$?
check_eq "permanent reset: a later pull resumes and completes" "$RC:$(cat "$PL_TMP/$SC.out")" "0:$WANT"
check "permanent reset: it resumed at 128 KiB" grep -q "resuming at 128.0 KiB" "$PL_TMP/$SC.err"

finish
