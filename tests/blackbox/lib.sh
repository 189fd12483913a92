# lib.sh - shared harness for the black-box tests of the registry API (sourced by bash scripts).
#
# A test script sources this file, calls srv_start, runs requests with req/req_anon/req_as and
# checks them with the check_* helpers, then calls finish, which prints the closing line
# "N passed, N failed[, N skipped]" and exits non-zero when anything failed.
#
# Target: BERTH_BIN (default build/asan/berth) is started as
#   BERTH_ADMIN_PASSWORD=... $BERTH_BIN serve --listen 127.0.0.1:PORT --data DIR
# on a free port and a fresh data dir. When BERTH_BIN names Debian's docker-registry
# (distribution 2.8), the same suite runs against it instead (temporary YAML config, htpasswd
# Basic auth, deletes enabled): that is how the suite is checked against a reference; tests of
# Berth-only behaviour are expected to fail there.
#
# Invariants:
#   1. Every check prints exactly one "ok N - name" or "not ok N - name" line; diagnostics follow
#      as "# " lines. Counters live in this shell only (never call checks inside $( )).
#   2. Readiness is polled with a deadline, never waited for by a bare sleep.
#   3. Every server started here is stopped by its PID: explicitly by srv_stop (which checks a
#      clean exit and a log free of sanitizer reports) or by the EXIT trap.
#   4. Everything a script writes lives under $BB_TMP, removed on exit unless BB_KEEP=1.

set -u

BB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH_BIN=${BERTH_BIN:-$BB_ROOT/build/asan/berth}
case $BERTH_BIN in /*) ;; *) BERTH_BIN=$BB_ROOT/$BERTH_BIN ;; esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

BB_PASS=0
BB_FAIL=0
BB_SKIP=0
BB_N=0
BB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-bb.XXXXXX")

ADMIN_USER="admin"
ADMIN_PASS="Bb-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BB_HTTP_SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")

# Media types used throughout.
MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
MT_OCI_CONFIG=application/vnd.oci.image.config.v1+json
MT_OCI_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
MT_OCI_EMPTY=application/vnd.oci.empty.v1+json
MT_DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
# what real clients send on manifest GET/HEAD: every manifest type
ACCEPT_ALL=(-H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX, $MT_DOCKER_MANIFEST, $MT_DOCKER_LIST")

# Server state (one server per script at a time).
SRV_PID=""
SRV_PORT=""
SRV_URL=""
SRV_HOSTPORT=""
SRV_DATA=""
SRV_LOG=""
SRV_KIND=berth
case $(basename "$BERTH_BIN") in docker-registry*) SRV_KIND=distribution ;; esac

# Last response.
R_STATUS=""
R_HDR=$BB_TMP/resp.hdr
R_BODY=$BB_TMP/resp.body
R_DESC=""

# ---------------------------------------------------------------------------------------------
# Reporting

bb_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

ok() {
    BB_N=$((BB_N + 1))
    BB_PASS=$((BB_PASS + 1))
    printf 'ok %d - %s\n' "$BB_N" "$1"
}

not_ok() {
    BB_N=$((BB_N + 1))
    BB_FAIL=$((BB_FAIL + 1))
    printf 'not ok %d - %s\n' "$BB_N" "$1"
    shift
    [ $# -gt 0 ] && bb_diag "$@"
    return 0
}

skip() {
    BB_N=$((BB_N + 1))
    BB_SKIP=$((BB_SKIP + 1))
    printf 'ok %d - %s # SKIP %s\n' "$BB_N" "$1" "${2:-}"
}

# bb_resp_diag prints the last request and (the head of) its response as diagnostics.
bb_resp_diag() {
    bb_diag "request: $R_DESC" "status: $R_STATUS"
    [ -s "$R_HDR" ] && tr -d '\r' <"$R_HDR" | head -n 20 | sed 's/^/#   /'
    if [ -s "$R_BODY" ]; then
        printf '#   body: '
        head -c 400 "$R_BODY" | tr -c '[:print:]\n' '.' | head -n 5
        echo
    fi
}

finish() {
    if [ -n "$SRV_PID" ]; then
        srv_stop
    fi
    if [ "$BB_SKIP" -gt 0 ]; then
        printf '%d passed, %d failed, %d skipped\n' "$BB_PASS" "$BB_FAIL" "$BB_SKIP"
    else
        printf '%d passed, %d failed\n' "$BB_PASS" "$BB_FAIL"
    fi
    [ "$BB_FAIL" -eq 0 ]
    exit
}

bb_cleanup() {
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null
        bb_wait_exit "$SRV_PID" 10 || kill -KILL "$SRV_PID" 2>/dev/null
    fi
    if [ "${BB_KEEP:-0}" = 1 ]; then
        echo "# kept $BB_TMP" >&2
    else
        rm -rf "$BB_TMP"
    fi
}
trap bb_cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Assertions. NAME first; they compare and count, never abort the script.

check_eq() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

check_ne() { # NAME GOT UNWANTED
    if [ "$2" != "$3" ]; then ok "$1"; else not_ok "$1" "got unwanted '$2'"; fi
}

check_contains() { # NAME HAYSTACK NEEDLE
    case $2 in
    *"$3"*) ok "$1" ;;
    *) not_ok "$1" "'$(printf %s "$2" | head -c 300)'" "does not contain '$3'" ;;
    esac
}

check_match() { # NAME STRING ERE
    if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "'$2' !~ /$3/"; fi
}

check_true() { # NAME COMMAND... (passes when the command succeeds)
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

check_false() { # NAME COMMAND... (passes when the command fails)
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then not_ok "$name" "command succeeded: $*"; else ok "$name"; fi
}

check_status() { # NAME WANT_STATUS  (last response)
    if [ "$R_STATUS" = "$2" ]; then
        ok "$1"
    else
        not_ok "$1" "want status $2"
        bb_resp_diag
    fi
}

check_hdr() { # NAME HEADER WANT  (last response; exact value)
    local v
    v=$(hdr "$2")
    if [ "$v" = "$3" ]; then ok "$1"; else not_ok "$1" "$2: got '$v', want '$3'"; fi
}

check_hdr_match() { # NAME HEADER ERE
    local v
    v=$(hdr "$2")
    if printf '%s' "$v" | grep -Eq -- "$3"; then
        ok "$1"
    else
        not_ok "$1" "$2: got '$v', want match /$3/"
    fi
}

check_hdr_present() { # NAME HEADER
    if hdr_has "$2"; then ok "$1"; else not_ok "$1" "header $2 missing" && bb_resp_diag; fi
}

check_hdr_absent() { # NAME HEADER
    if hdr_has "$2"; then not_ok "$1" "header $2 present: '$(hdr "$2")'"; else ok "$1"; fi
}

check_body_file() { # NAME FILE  (last response body equals FILE byte for byte)
    if cmp -s "$R_BODY" "$2"; then
        ok "$1"
    else
        not_ok "$1" "body differs from $(basename "$2") ($(wc -c <"$R_BODY") vs $(wc -c <"$2") bytes)"
    fi
}

check_body_empty() { # NAME
    if [ ! -s "$R_BODY" ]; then ok "$1"; else not_ok "$1" "body not empty: $(head -c 200 "$R_BODY")"; fi
}

check_jq() { # NAME JQ_FILTER [jq args...]  (passes when the filter yields true on the body)
    local name=$1 filter=$2
    shift 2
    if [ -s "$R_BODY" ] && jq -e "$@" "$filter" "$R_BODY" >/dev/null 2>&1; then
        ok "$name"
    else
        not_ok "$name" "jq false: $filter"
        bb_resp_diag
    fi
}

# check_err NAME STATUS CODE: the last response has STATUS and (unless it answered a HEAD) the
# spec's JSON error body {"errors":[{"code":...,"message":...}]} with CODE among its codes.
check_err() {
    local name=$1 want=$2 code=$3
    if [ "$R_STATUS" != "$want" ]; then
        not_ok "$name" "want status $want and code $code"
        bb_resp_diag
        return 0
    fi
    case $R_DESC in HEAD\ *)
        ok "$name"
        return 0
        ;;
    esac
    if [ -s "$R_BODY" ] && jq -e --arg c "$code" '
            (.errors | type == "array" and length > 0)
            and all(.errors[]; (.code | type == "string") and (.message | type == "string"))
            and any(.errors[]; .code == $c)' "$R_BODY" >/dev/null 2>&1; then
        ok "$name"
    else
        not_ok "$name" "status $want ok, but body is not an error list with code $code"
        bb_resp_diag
    fi
}

# ---------------------------------------------------------------------------------------------
# HTTP. req METHOD PATH_OR_URL [curl args...] runs one request as admin and sets R_STATUS,
# R_HDR (file of response headers), R_BODY (file of the body). req_anon sends no credentials,
# req_as USER:PASS uses others.

BB_CURL_AUTH=""

bb_curl() { # METHOD URL [curl args...]
    local method=$1 url=$2
    shift 2
    case $url in http://* | https://*) ;; *) url=$SRV_URL$url ;; esac
    R_DESC="$method $url"
    : >"$R_HDR"
    : >"$R_BODY"
    local -a args=(-sS -g --max-time 120 -D "$R_HDR" -o "$R_BODY" -w '%{http_code}')
    [ -n "$BB_CURL_AUTH" ] && args+=(-u "$BB_CURL_AUTH")
    [ -n "${BB_CACERT:-}" ] && args+=(--cacert "$BB_CACERT")
    if [ "$method" = HEAD ]; then
        args+=(-I)
    else
        args+=(-X "$method")
    fi
    R_STATUS=$(curl "${args[@]}" "$@" "$url" 2>"$BB_TMP/curl.err") || true
    [ -n "$R_STATUS" ] || R_STATUS=000
    # with -I curl writes the headers into the -o file too
    [ "$method" = HEAD ] && : >"$R_BODY"
    return 0
}

req() { BB_CURL_AUTH="$ADMIN_USER:$ADMIN_PASS" bb_curl "$@"; }
req_anon() { BB_CURL_AUTH="" bb_curl "$@"; }
req_as() {
    local cred=$1
    shift
    BB_CURL_AUTH=$cred bb_curl "$@"
}

# hdr NAME prints the value of the (last) response header NAME, without CR; "" when absent.
hdr() {
    tr -d '\r' <"$R_HDR" | awk -v n="$1" '
        BEGIN { n = tolower(n) }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) {
              v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); last = v } }
        END { printf "%s", last }'
}

hdr_has() {
    tr -d '\r' <"$R_HDR" | grep -qi "^$1:"
}

body() { cat "$R_BODY"; }

# ---------------------------------------------------------------------------------------------
# Content helpers

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
digest_of() { printf 'sha256:%s' "$(sha256_of "$1")"; }
size_of() { wc -c <"$1" | tr -d ' '; }

# rand_file PATH SIZE: SIZE random bytes.
rand_file() { head -c "$2" /dev/urandom >"$1"; }

# rand_name PREFIX: a lower-case unique name component.
rand_name() { printf '%s%s' "$1" "$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# push_blob REPO FILE: monolithic upload (POST, then PUT ?digest= with the bytes); counts one
# check. Sets PUSHED_DIGEST.
push_blob() {
    local repo=$1 file=$2 loc
    PUSHED_DIGEST=$(digest_of "$file")
    req POST "/v2/$repo/blobs/uploads/"
    if [ "$R_STATUS" != 202 ]; then
        not_ok "push blob $(basename "$file") to $repo: POST" && bb_resp_diag
        return 1
    fi
    loc=$(hdr Location)
    req PUT "$(url_add_query "$loc" "digest=$PUSHED_DIGEST")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$file"
    if [ "$R_STATUS" = 201 ]; then
        ok "push blob $(basename "$file") to $repo"
    else
        not_ok "push blob $(basename "$file") to $repo: PUT" && bb_resp_diag
        return 1
    fi
}

# push_manifest REPO REF FILE [MEDIA_TYPE]: PUT a manifest; counts one check (201).
push_manifest() {
    local repo=$1 ref=$2 file=$3 mt=${4:-}
    [ -n "$mt" ] || mt=$(jq -r '.mediaType // empty' "$file")
    [ -n "$mt" ] || mt=$MT_OCI_MANIFEST
    req PUT "/v2/$repo/manifests/$ref" -H "Content-Type: $mt" --data-binary "@$file"
    if [ "$R_STATUS" = 201 ]; then
        ok "push manifest $(basename "$file") to $repo:$ref"
    else
        not_ok "push manifest $(basename "$file") to $repo:$ref" && bb_resp_diag
        return 1
    fi
}

# url_add_query URL KEY=VALUE: appends a query argument (digest values need no escaping).
url_add_query() {
    case $1 in
    *\?*) printf '%s&%s' "$1" "$2" ;;
    *) printf '%s?%s' "$1" "$2" ;;
    esac
}

# descriptor MEDIA_TYPE FILE: compact JSON descriptor of FILE.
descriptor() {
    jq -cn --arg mt "$1" --arg d "$(digest_of "$2")" --argjson s "$(size_of "$2")" \
        '{mediaType: $mt, digest: $d, size: $s}'
}

# mk_manifest OUT CONFIG_FILE [LAYER_FILE...]: an OCI image manifest (compact JSON) in OUT.
mk_manifest() {
    local out=$1 config=$2 layers="[]" f
    shift 2
    for f in "$@"; do
        layers=$(jq -c --argjson d "$(descriptor "$MT_OCI_LAYER" "$f")" '. + [$d]' <<<"$layers")
    done
    jq -cn --arg mt "$MT_OCI_MANIFEST" --argjson c "$(descriptor "$MT_OCI_CONFIG" "$config")" \
        --argjson l "$layers" '{schemaVersion: 2, mediaType: $mt, config: $c, layers: $l}' \
        | tr -d '\n' >"$out"
}

# mk_image DIR: writes DIR/config.json, DIR/layer.tar.gz (a unique small layer) and
# DIR/manifest.json; sets IMG_DIR, IMG_DIGEST (of the manifest).
mk_image() {
    local dir=$1
    mkdir -p "$dir/root"
    head -c 64 /dev/urandom | od -An -tx1 >"$dir/root/seed.txt"
    tar -C "$dir/root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$dir/layer.tar" .
    gzip -n -c "$dir/layer.tar" >"$dir/layer.tar.gz"
    jq -cn --arg diff "$(digest_of "$dir/layer.tar")" \
        '{architecture: "amd64", os: "linux", config: {},
          rootfs: {type: "layers", diff_ids: [$diff]}}' | tr -d '\n' >"$dir/config.json"
    mk_manifest "$dir/manifest.json" "$dir/config.json" "$dir/layer.tar.gz"
    IMG_DIR=$dir
    IMG_DIGEST=$(digest_of "$dir/manifest.json")
}

# push_image REPO TAG DIR: pushes config, layer and manifest made by mk_image (3 checks).
push_image() {
    push_blob "$1" "$3/config.json" || return 1
    push_blob "$1" "$3/layer.tar.gz" || return 1
    push_manifest "$1" "$2" "$3/manifest.json"
}

# mk_oci_layout DIR TAG [EXTRA_FILE]: an OCI image layout (for skopeo) holding one image of one
# unique layer (plus EXTRA_FILE, e.g. busybox, when given). Sets LAYOUT_MANIFEST_DIGEST.
mk_oci_layout() {
    local dir=$1 tag=$2 extra=${3:-} w
    w=$(mktemp -d "$BB_TMP/img.XXXXXX")
    mk_image "$w" >/dev/null
    if [ -n "$extra" ]; then
        mkdir -p "$w/root/bin"
        cp "$extra" "$w/root/bin/"
        tar -C "$w/root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$w/layer.tar" .
        gzip -n -c "$w/layer.tar" >"$w/layer.tar.gz"
        jq -cn --arg diff "$(digest_of "$w/layer.tar")" \
            '{architecture: "amd64", os: "linux", config: {},
              rootfs: {type: "layers", diff_ids: [$diff]}}' | tr -d '\n' >"$w/config.json"
        mk_manifest "$w/manifest.json" "$w/config.json" "$w/layer.tar.gz"
    fi
    mkdir -p "$dir/blobs/sha256"
    local f
    for f in config.json layer.tar.gz manifest.json; do
        cp "$w/$f" "$dir/blobs/sha256/$(sha256_of "$w/$f")"
    done
    printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
    jq -cn --argjson d "$(descriptor "$MT_OCI_MANIFEST" "$w/manifest.json")" --arg t "$tag" \
        '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": $t}}]}' \
        >"$dir/index.json"
    LAYOUT_MANIFEST_DIGEST=$(digest_of "$w/manifest.json")
    rm -rf "$w"
}

# skopeo_cmd ARGS...: skopeo against the plain-HTTP test server with admin credentials.
skopeo_push() { # LAYOUT_DIR TAG REPO:TAG
    skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
        --dest-creds "$ADMIN_USER:$ADMIN_PASS" "oci:$1:$2" "docker://$SRV_HOSTPORT/$3"
}
skopeo_pull() { # REPO:TAG LAYOUT_DIR TAG
    skopeo --insecure-policy copy --quiet --src-tls-verify=false \
        --src-creds "$ADMIN_USER:$ADMIN_PASS" "docker://$SRV_HOSTPORT/$1" "oci:$2:$3"
}

# layout_blobs_ok DIR: every blob file of an OCI layout hashes to its own name.
layout_blobs_ok() {
    local f
    for f in "$1"/blobs/sha256/*; do
        [ "$(sha256_of "$f")" = "$(basename "$f")" ] || return 1
    done
}

# ---------------------------------------------------------------------------------------------
# Store snapshots: "leaves the store exactly as it was".

# snap FILE: the blob files with their hashes and every metadata table, sorted, into FILE.
# Columns whose names match BB_VOLATILE_COLS (counters and timestamps that reads or logins move)
# and upload sessions are left out, and so are tables that record activity rather than content
# (the audit log: a refused request is itself an event worth recording; the pull history,
# written by the flush of earlier pulls at any moment).
BB_VOLATILE_COLS=${BB_VOLATILE_COLS:-pull|last_|login|accessed|updated_at|seen}
BB_VOLATILE_TABLES=${BB_VOLATILE_TABLES:-audit|pull_buckets}
snap() {
    local out=$1 db t cols
    {
        if [ "$SRV_KIND" = distribution ]; then
            (cd "$SRV_DATA" && find . -type f ! -path '*/_uploads/*' -print0 | sort -z |
                xargs -0 -r sha256sum)
        else
            (cd "$SRV_DATA" && find blobs -type f -print0 2>/dev/null | sort -z |
                xargs -0 -r sha256sum)
            for db in $(find "$SRV_DATA" -maxdepth 2 -type f \( -name '*.db' -o -name '*.sqlite' \
                -o -name '*.sqlite3' \) | sort); do
                echo "== $(basename "$db")"
                for t in $(sqlite3 -readonly "$db" \
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name" |
                    grep -Ev "$BB_VOLATILE_TABLES"); do
                    cols=$(sqlite3 -readonly "$db" "SELECT name FROM pragma_table_info('$t')" |
                        grep -Ev "$BB_VOLATILE_COLS" | sed 's/.*/"&"/' | paste -sd, -)
                    [ -n "$cols" ] || continue
                    echo "-- $t"
                    sqlite3 -readonly "$db" "SELECT $cols FROM \"$t\"" | sort
                done
            done
        fi
    } >"$out" 2>&1
}

# check_unchanged NAME BEFORE_FILE: the store equals the snapshot in BEFORE_FILE.
check_unchanged() {
    local now=$BB_TMP/snap.now
    snap "$now"
    if cmp -s "$2" "$now"; then
        ok "$1"
    else
        not_ok "$1" "store changed:"
        diff "$2" "$now" | head -n 20 | sed 's/^/#   /'
    fi
}

# ---------------------------------------------------------------------------------------------
# Server lifecycle

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bb_wait_exit PID SECONDS: polls until PID is gone; 1 on timeout.
bb_wait_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.05
    done
    return 0
}

bb_ready() {
    local code
    if [ "$SRV_KIND" = distribution ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$SRV_URL/v2/") || true
        [ "$code" = 401 ]
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${BB_CACERT:+--cacert "$BB_CACERT"} \
            "$SRV_URL/api/v2.0/ping") || true
        [ "$code" = 200 ]
    fi
}

# srv_start [DATA_DIR]: starts the target on a free port (fresh data dir unless one is given) and
# waits for readiness (30 s deadline). Counts one check. Sets SRV_PID, SRV_URL, SRV_DATA, SRV_LOG.
srv_start() {
    local tries=0
    SRV_DATA=${1:-$(mktemp -d "$BB_TMP/data.XXXXXX")}
    mkdir -p "$SRV_DATA"
    if [ "$SRV_KIND" = berth ] && [ ! -x "$BERTH_BIN" ]; then
        not_ok "server binary $BERTH_BIN exists (make asan-bin)"
        finish
    fi
    while :; do
        SRV_PORT=$(free_port)
        SRV_HOSTPORT=127.0.0.1:$SRV_PORT
        # BB_SCHEME=https with BB_CACERT=FILE: a server started with --tls-cert/--tls-key
        SRV_URL=${BB_SCHEME:-http}://$SRV_HOSTPORT
        SRV_LOG=$BB_TMP/server.$SRV_PORT.log
        if [ "$SRV_KIND" = distribution ]; then
            bb_distribution_config
            docker-registry serve "$BB_TMP/registry.yml" >"$SRV_LOG" 2>&1 &
        else
            # BB_SERVE_ARGS: extra serve options (e.g. --config FILE), split on blanks;
            # BB_SERVE_EQ=1 spells them --listen=ADDR --data=DIR
            local where=(--listen "$SRV_HOSTPORT" --data "$SRV_DATA")
            [ "${BB_SERVE_EQ:-0}" = 1 ] && where=(--listen="$SRV_HOSTPORT" --data="$SRV_DATA")
            # shellcheck disable=SC2086
            BERTH_ADMIN_PASSWORD=$ADMIN_PASS "$BERTH_BIN" serve "${where[@]}" \
                ${BB_SERVE_ARGS:-} >"$SRV_LOG" 2>&1 &
        fi
        SRV_PID=$!
        local deadline=$((SECONDS + 30))
        while ! bb_ready; do
            if ! kill -0 "$SRV_PID" 2>/dev/null; then
                break
            fi
            if [ $SECONDS -ge "$deadline" ]; then
                not_ok "server starts within 30 s" "log tail:" "$(tail -n 20 "$SRV_LOG")"
                finish
            fi
            sleep 0.05
        done
        if kill -0 "$SRV_PID" 2>/dev/null; then
            ok "server started ($SRV_KIND on $SRV_HOSTPORT)"
            return 0
        fi
        wait "$SRV_PID" 2>/dev/null
        SRV_PID=""
        # a port taken between free_port and bind: try another, a few times
        tries=$((tries + 1))
        if [ $tries -ge 3 ] || ! grep -qi 'in use' "$SRV_LOG"; then
            not_ok "server starts" "it exited; log tail:" "$(tail -n 30 "$SRV_LOG")"
            finish
        fi
    done
}

bb_distribution_config() {
    htpasswd -Bbc "$BB_TMP/htpasswd" "$ADMIN_USER" "$ADMIN_PASS" >/dev/null 2>&1
    cat >"$BB_TMP/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $SRV_DATA
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $SRV_HOSTPORT
  secret: $BB_HTTP_SECRET
auth:
  htpasswd:
    realm: berth-test
    path: $BB_TMP/htpasswd
EOF
}

# srv_stop: SIGTERM, wait (20 s deadline), check exit status 0 and no sanitizer report in the log.
# Counts two checks.
srv_stop() {
    local pid=$SRV_PID rc
    SRV_PID=""
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    if ! bb_wait_exit "$pid" 20; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        not_ok "server stops within 20 s of SIGTERM"
        return 0
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    if [ "$SRV_KIND" = distribution ]; then
        ok "server stopped on SIGTERM (distribution: exit $rc not checked)"
    else
        check_eq "server exits 0 on SIGTERM" "$rc" 0
    fi
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$SRV_LOG"; then
        not_ok "server log free of sanitizer reports" "$(grep -E -A 25 'ERROR: |runtime error:' "$SRV_LOG" | head -n 40)"
    else
        ok "server log free of sanitizer reports"
    fi
}

# srv_is_berth: true for the Berth target (for tests whose store layout is Berth's own).
srv_is_berth() { [ "$SRV_KIND" = berth ]; }

# project_public NAME: open a project to anonymous pulls (library is private on a new server).
project_public() {
    req PUT "/api/v2.0/projects/$1" -H 'Content-Type: application/json' \
        --data '{"metadata":{"public":"true"}}'
    [ "$R_STATUS" = 200 ] || { echo "# project_public $1: status $R_STATUS" >&2; return 1; }
}
