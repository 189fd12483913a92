#!/usr/bin/env bash
# pull_token.sh - `berth pull` against distribution 2.8 behind a bearer token service:
# token flow with credentials, anonymous refusal, wrong-then-right credentials, and token
# renewal mid-pull both on a 401 (token expires early, expires_in lies) and from expires_in.
. "$(dirname "$0")/lib_pull.sh"

need docker-registry skopeo openssl python3 curl jq

CTL=$PL_TMP/tok.control
tok_start --user alice:secret1 --control "$CTL" || { not_ok "token service starts"; finish; }
reg_start tokreg "$(token_auth_yaml)" || { not_ok "registry starts"; finish; }

python3 "$FIX/mkimage.py" "$PL_TMP/img" v1 --layers 3 --random-mib 1 >"$PL_TMP/img.digest"
WANT=$(cat "$PL_TMP/img.digest")
push "$PL_TMP/img:v1" "$REG_HOST/test/app:v1" alice:secret1 || { not_ok "push"; finish; }
IMG=$REG_HOST/test/app:v1

docker_config "$PL_TMP/good.json" "$REG_HOST" alice secret1
# kubelet order: the more specific key ("host/test") is tried first, and it holds a wrong password
docker_config "$PL_TMP/mixed.json" "$REG_HOST/test" alice wrongpass-XYZ "$REG_HOST" alice secret1
docker_config "$PL_TMP/bad.json" "$REG_HOST" alice wrongpass-XYZ

# 1. good credentials through the token service
out=$("$BERTH" pull --plain-http --secret "$PL_TMP/good.json" --oci "$PL_TMP/o1" "$IMG" 2>"$PL_TMP/e1")
rc=$?
check_eq "pull with a token: exit 0" "$rc" 0
check_eq "pull with a token: digest on stdout" "$out" "$WANT"
check_eq "OCI layout readable by skopeo" \
    "$(skopeo inspect "oci:$PL_TMP/o1:v1" 2>/dev/null | jq -r .Digest)" "$WANT"
check "token service issued a pull token for alice" grep -q "issued user=alice scope=repository:test/app:pull$" "$TOK_LOG"

# 2. anonymous: refused with a clear message
"$BERTH" pull --plain-http --oci "$PL_TMP/o2" "$IMG" >/dev/null 2>"$PL_TMP/e2"
rc=$?
check_eq "anonymous pull refused: exit 1" "$rc" 1
check "anonymous refusal names what was tried" grep -q "not authorized; tried anonymous" "$PL_TMP/e2"

# 3. a wrong credential, then the next matching one works
"$BERTH" pull --plain-http --secret "$PL_TMP/mixed.json" --oci "$PL_TMP/o3" "$IMG" >/dev/null 2>"$PL_TMP/e3"
rc=$?
check_eq "wrong then right credential: exit 0" "$rc" 0
check "the refused credential is reported with its source and user" \
    grep -q "registry $REG_HOST/test (user alice) refused" "$PL_TMP/e3"
check "token service saw the wrong password" grep -q "refused user=alice" "$TOK_LOG"

# 4. only wrong credentials: error names source and user, never the password
"$BERTH" pull --plain-http --secret "$PL_TMP/bad.json" --oci "$PL_TMP/o4" "$IMG" >/dev/null 2>"$PL_TMP/e4"
rc=$?
check_eq "wrong credential: exit 1" "$rc" 1
check "wrong credential: message says the token service refused" \
    grep -q "user alice.*token service refused the credentials" "$PL_TMP/e4"
if grep -rq "wrongpass-XYZ\|secret1" "$PL_TMP"/e[1-4]; then
    not_ok "no password in any output"
else
    ok "no password in any output"
fi

# 5. token expires mid-pull while expires_in says 300 s: renewal on the 401
#    (exp_offset -60 cancels distribution's 60 s leeway, so the token dies after 2 s)
echo '{"ttl": 2, "exp_offset": -60, "expires_in": 300}' >"$CTL"
n0=$(grep -c '^issued' "$TOK_LOG")
"$BERTH" pull --plain-http --verbose --parallel 1 --limit-rate 262144 --secret "$PL_TMP/good.json" \
    --oci "$PL_TMP/o5" "$IMG" >"$PL_TMP/out5" 2>"$PL_TMP/e5"
rc=$?
n1=$(grep -c '^issued' "$TOK_LOG")
check_eq "expired token mid-pull: exit 0" "$rc" 0
check_eq "expired token mid-pull: digest" "$(cat "$PL_TMP/out5")" "$WANT"
if [ $((n1 - n0)) -ge 2 ] && [ "$(grep -c -- '-> 401' "$PL_TMP/e5")" -ge 2 ]; then
    ok "expired token mid-pull: renewed after a 401 ($((n1 - n0)) tokens)"
else
    not_ok "expired token mid-pull: renewed after a 401" "tokens: $((n1 - n0))" "$(grep -- '->' "$PL_TMP/e5")"
fi

# 6. expires_in honest and short: renewed before it expires, no second 401
echo '{"ttl": 3, "exp_offset": -60, "expires_in": 3}' >"$CTL"
n0=$(grep -c '^issued' "$TOK_LOG")
"$BERTH" pull --plain-http --verbose --parallel 1 --limit-rate 262144 --secret "$PL_TMP/good.json" \
    --oci "$PL_TMP/o6" "$IMG" >"$PL_TMP/out6" 2>"$PL_TMP/e6"
rc=$?
n1=$(grep -c '^issued' "$TOK_LOG")
check_eq "short expires_in: exit 0" "$rc" 0
if [ $((n1 - n0)) -ge 2 ] && [ "$(grep -c -- '-> 401' "$PL_TMP/e6")" -eq 1 ]; then
    ok "short expires_in: renewed from expires_in without another 401"
else
    not_ok "short expires_in: renewed from expires_in" "tokens: $((n1 - n0))" "$(grep -- '->' "$PL_TMP/e6")"
fi
if grep -qi "authorization\|bearer ey" "$PL_TMP"/e[5-6]; then
    not_ok "verbose log carries no Authorization header or token"
else
    ok "verbose log carries no Authorization header or token"
fi

finish
