#!/usr/bin/env bash
# auth_flood.sh - a login flood does not take the registry down: 400 parallel wrong logins with
# random user names (Basic on /v2/ and POST /c/login, half each), at the full password cost
# (no BERTH_TEST_KDF_ITER), while a ping, a manifest GET with already-verified (cached) Basic
# credentials and a manifest GET with a bearer token each answer in under 1 s; every flood
# request is answered 401 (checked) or 429 TOOMANYREQUESTS with Retry-After (no check slot
# free), never 5xx; afterwards the right password of a user never seen before works at once,
# on /v2/ and on /c/login (nobody was locked out by the names the flood used).
#
# FLOOD_N (default 400) sets the number of wrong logins. The latencies measured are printed as
# diagnostics ("# ping 0.012 s" ...).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

unset BERTH_TEST_KDF_ITER
FLOOD_N=${FLOOD_N:-400}
LIMIT_S=1.0

srv_start
check_true "users alice and bob, private project fl" eval \
    'api_user alice Alice-Pass-1 && api_user bob Bob-Pass-1 && api_project fl false &&
     api_member fl alice 3'
mk_image "$BB_TMP/img" >/dev/null
push_image fl/app v1 "$BB_TMP/img"
MAN="$SRV_URL/v2/fl/app/manifests/v1"

# alice's credentials are verified once before the flood (the cache keeps them)
req_as alice:Alice-Pass-1 GET "/v2/fl/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "alice pulls the manifest before the flood" 200
TOK=$(token_get alice:Alice-Pass-1 "repository:fl/app:pull")
check_ne "alice gets a pull token" "$TOK" ""

# timed GET: prints "STATUS SECONDS"
timed() { # URL [curl args...]
    local url=$1
    shift
    curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}' "$@" "$url" || true
}
fast() { # "STATUS SECONDS" WANT_STATUS: status matches and under LIMIT_S
    local st=${1% *} t=${1#* }
    [ "$st" = "$2" ] && awk -v t="$t" -v l="$LIMIT_S" 'BEGIN { exit !(t < l) }'
}

# one wrong login with a random name; prints its status and Retry-After (or "-")
cat >"$BB_TMP/wrong.sh" <<'EOF'
#!/usr/bin/env bash
url=$1 i=$2
name=u$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
if [ $((i % 2)) = 0 ]; then
    out=$(curl -s -D - -o /dev/null --max-time 120 -u "$name:Wrong-$i" "$url/v2/")
else
    out=$(curl -s -D - -o /dev/null --max-time 120 --data-urlencode "principal=$name" \
        --data-urlencode "password=Wrong-$i" "$url/c/login")
fi
st=$(printf '%s' "$out" | awk 'NR == 1 { print $2 }')
ra=$(printf '%s' "$out" | tr -d '\r' | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')
echo "${st:-000} ${ra:--}"
EOF
chmod +x "$BB_TMP/wrong.sh"

seq 1 "$FLOOD_N" | xargs -P "$FLOOD_N" -n 1 "$BB_TMP/wrong.sh" "$SRV_URL" >"$BB_TMP/flood.out" &
FLOOD_PID=$!
# let the flood build up: wait until the server has refused a first login (or 3 s)
deadline=$((SECONDS + 3))
while [ ! -s "$BB_TMP/flood.out" ] && [ $SECONDS -lt "$deadline" ]; do sleep 0.05; done

PING_OK=0 PULL_OK=0 BEARER_OK=0 SAMPLES=0 PING_MAX=0 PULL_MAX=0 BEARER_MAX=0
maxof() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
while kill -0 "$FLOOD_PID" 2>/dev/null && [ $SAMPLES -lt 10 ]; do
    SAMPLES=$((SAMPLES + 1))
    p=$(timed "$SRV_URL/api/v2.0/ping")
    m=$(timed "$MAN" -u alice:Alice-Pass-1 "${ACCEPT_ALL[@]}")
    b=$(timed "$MAN" -H "Authorization: Bearer $TOK" "${ACCEPT_ALL[@]}")
    bb_diag "during the flood: ping $p s, cached Basic pull $m s, bearer pull $b s"
    fast "$p" 200 && PING_OK=$((PING_OK + 1))
    fast "$m" 200 && PULL_OK=$((PULL_OK + 1))
    fast "$b" 200 && BEARER_OK=$((BEARER_OK + 1))
    PING_MAX=$(maxof "$PING_MAX" "${p#* }")
    PULL_MAX=$(maxof "$PULL_MAX" "${m#* }")
    BEARER_MAX=$(maxof "$BEARER_MAX" "${b#* }")
    sleep 0.2
done
FLOOD_END_SAMPLES=$SAMPLES
wait "$FLOOD_PID"
bb_diag "max during the flood: ping $PING_MAX s, cached Basic pull $PULL_MAX s, bearer pull $BEARER_MAX s ($SAMPLES samples)"
if [ "$FLOOD_END_SAMPLES" -ge 1 ]; then ok "sampled while the flood ran ($SAMPLES)"; else
    not_ok "sampled while the flood ran" "the flood ended before the first sample"; fi
check_eq "every ping during the flood: 200 in under $LIMIT_S s" "$PING_OK" "$SAMPLES"
check_eq "every cached-Basic manifest GET: 200 in under $LIMIT_S s" "$PULL_OK" "$SAMPLES"
check_eq "every bearer manifest GET: 200 in under $LIMIT_S s" "$BEARER_OK" "$SAMPLES"

N401=$(awk '$1 == 401' "$BB_TMP/flood.out" | wc -l)
N429=$(awk '$1 == 429' "$BB_TMP/flood.out" | wc -l)
N429RA=$(awk '$1 == 429 && $2 ~ /^[0-9]+$/ && $2 >= 1' "$BB_TMP/flood.out" | wc -l)
bb_diag "flood answers: $N401 x 401, $N429 x 429, $(wc -l <"$BB_TMP/flood.out") in all"
check_eq "all $FLOOD_N flood requests answered" "$(wc -l <"$BB_TMP/flood.out" | tr -d ' ')" "$FLOOD_N"
check_eq "each flood answer is 401 or 429" "$((N401 + N429))" "$FLOOD_N"
check_eq "each 429 carries Retry-After >= 1" "$N429RA" "$N429"

# afterwards: bob (never verified before) gets in at once, on /v2/ and on /c/login
b=$(timed "$SRV_URL/v2/" -u bob:Bob-Pass-1)
check_eq "after the flood bob's right password -> 200 on /v2/" "${b% *}" 200
req_anon POST /c/login --data-urlencode "principal=alice" --data-urlencode "password=Alice-Pass-1"
check_status "after the flood alice logs in on /c/login -> 200" 200
req_anon POST /c/login --data-urlencode "principal=$(rand_name nobody)" --data-urlencode "password=x"
check_err "a wrong login after the flood is checked again -> 401" 401 UNAUTHORIZED

srv_stop
finish
