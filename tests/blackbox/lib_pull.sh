# shellcheck shell=bash
# lib_pull.sh - shared helpers of the `berth pull` black-box tests (sourced by bash scripts).
#
# Starts Debian's docker-registry (distribution 2.8) on free 127.0.0.1 ports with temp dirs,
# with htpasswd Basic auth or behind tests/fixtures/pull/tokensvc.py (bearer tokens), builds
# test images with tests/fixtures/pull/mkimage.py and pushes them with skopeo.
#
# Invariants:
#   1. Every check prints exactly one "ok - name" or "not ok - name" line; `finish` prints
#      "N passed, N failed[, N skipped]" and exits non-zero on any failure.
#   2. Every server started here is recorded in PL_PIDS and stopped by its PID on exit.
#   3. Readiness is polled with a deadline (wait_until), never waited for by a bare sleep.
#   4. Everything lives under $PL_TMP, removed on exit unless PL_KEEP=1.

set -u

PL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH=${BERTH_PULL_BIN:-$PL_ROOT/build/asan/berth}
[ -x "$BERTH" ] || BERTH=$PL_ROOT/bin/berth
FIX=$PL_ROOT/tests/fixtures/pull
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

PL_PASS=0
PL_FAIL=0
PL_SKIP=0
PL_PIDS=""
PL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-pull.XXXXXX")

ok() {
    PL_PASS=$((PL_PASS + 1))
    echo "ok - $1"
}
not_ok() {
    PL_FAIL=$((PL_FAIL + 1))
    echo "not ok - $1"
    shift
    for l in "$@"; do printf '# %s\n' "$l"; done
}
skip() {
    PL_SKIP=$((PL_SKIP + 1))
    echo "SKIP: $1"
}
# check NAME CMD...: ok when CMD succeeds
check() {
    local name=$1
    shift
    if "$@" >/dev/null; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
# check_eq NAME GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

pl_cleanup() {
    for p in $PL_PIDS; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    if [ "${PL_KEEP:-0}" = 1 ]; then echo "# kept $PL_TMP"; else rm -rf "$PL_TMP"; fi
}
trap pl_cleanup EXIT

finish() {
    if [ "$PL_SKIP" -gt 0 ]; then
        echo "$PL_PASS passed, $PL_FAIL failed, $PL_SKIP skipped"
    else
        echo "$PL_PASS passed, $PL_FAIL failed"
    fi
    [ "$PL_FAIL" -eq 0 ]
    exit $?
}

# need TOOL...: all present, else print SKIP and finish (counted as skipped)
need() {
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            skip "$t not installed"
            finish
        fi
    done
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds or the deadline passes
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# reg_start NAME AUTH_YAML: docker-registry with its own storage; sets REG_PORT, REG_HOST,
# REG_DATA (storage root). AUTH_YAML is the text under "auth:" (indented two spaces) or "".
# With REG_TLS_CERT and REG_TLS_KEY set (PEM files), the registry serves HTTPS with them and
# readiness is polled over TLS (with REG_TLS_CA as the trust anchor; unverified when it is empty).
reg_start() {
    local name=$1 auth=$2 dir=$PL_TMP/$1
    mkdir -p "$dir/data"
    REG_PORT=$(free_port)
    REG_HOST=127.0.0.1:$REG_PORT
    # shellcheck disable=SC2034 # read by the scripts that source this file
    REG_DATA=$dir/data
    {
        echo "version: 0.1"
        echo "log:"
        echo "  level: error"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: $dir/data"
        echo "  delete:"
        echo "    enabled: true"
        echo "http:"
        echo "  addr: $REG_HOST"
        echo "  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        if [ -n "${REG_TLS_CERT:-}" ]; then
            echo "  tls:"
            echo "    certificate: $REG_TLS_CERT"
            echo "    key: $REG_TLS_KEY"
        fi
        if [ -n "$auth" ]; then
            echo "auth:"
            printf '%s\n' "$auth"
        fi
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    PL_PIDS="$PL_PIDS $!"
    local probe=(curl -s -o /dev/null "http://$REG_HOST/v2/")
    if [ -n "${REG_TLS_CERT:-}" ] && [ -n "${REG_TLS_CA:-}" ]; then
        probe=(curl -s -o /dev/null --cacert "$REG_TLS_CA" "https://$REG_HOST/v2/")
    elif [ -n "${REG_TLS_CERT:-}" ]; then
        probe=(curl -s -k -o /dev/null "https://$REG_HOST/v2/")
    fi
    if ! wait_until 20 "${probe[@]}"; then
        echo "# registry $name did not start:"
        sed 's/^/# /' "$dir/log"
        return 1
    fi
}

# htpasswd_file FILE USER PASS...: bcrypt entries
htpasswd_file() {
    local f=$1
    shift
    : >"$f"
    while [ $# -ge 2 ]; do
        htpasswd -B -b "$f" "$1" "$2" >/dev/null 2>&1 || return 1
        shift 2
    done
}

# tok_start ARGS...: tokensvc.py with a fresh key pair; sets TOK_URL, TOK_CERT, TOK_LOG
tok_start() {
    local dir=$PL_TMP/tok.$RANDOM
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
        -subj /CN=berth-token -days 1 >/dev/null 2>&1 || return 1
    TOK_CERT=$dir/cert.pem
    TOK_LOG=$dir/issued.log
    : >"$TOK_LOG"
    python3 "$FIX/tokensvc.py" --key "$dir/key.pem" --cert "$dir/cert.pem" \
        --portfile "$dir/port" --log "$TOK_LOG" "$@" >"$dir/out" 2>&1 &
    PL_PIDS="$PL_PIDS $!"
    wait_until 10 test -s "$dir/port" || return 1
    TOK_URL=http://127.0.0.1:$(cat "$dir/port")/token
}

# token_auth_yaml: the auth section for a registry behind the token service
token_auth_yaml() {
    printf '  token:\n    realm: %s\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: %s\n' \
        "$TOK_URL" "$TOK_CERT"
}

# push LAYOUT:TAG DEST [CREDS]: skopeo copy of a whole layout (index included) to the registry
push() {
    local creds=()
    [ -n "${3:-}" ] && creds=(--dest-creds "$3")
    skopeo copy -q --all --dest-tls-verify=false "${creds[@]}" "oci:$1" "docker://$2" >/dev/null
}

# docker_config FILE HOST USER PASS [HOST USER PASS]...: a docker config.json with auths
docker_config() {
    local f=$1
    shift
    python3 - "$f" "$@" <<'EOF'
import base64, json, sys
out, args = sys.argv[1], sys.argv[2:]
auths = {}
for i in range(0, len(args), 3):
    h, u, p = args[i:i + 3]
    auths[h] = {"auth": base64.b64encode(("%s:%s" % (u, p)).encode()).decode()}
json.dump({"auths": auths}, open(out, "w"))
EOF
}

# blob_sha FILE: sha256 hex of a file
blob_sha() { sha256sum "$1" | cut -d' ' -f1; }
