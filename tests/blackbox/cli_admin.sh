#!/usr/bin/env bash
# cli_admin.sh - the admin subcommands end to end against a running server: berth project,
#   member, robot and user (ls/add/rm/refresh/passwd, table and --json, credentials from flags
#   or the environment, errors and exit statuses), the offline `user passwd --data` still
#   working, and `berth audit purge --older-than --data`.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
srv_start

B=$BERTH_BIN
OUT=$BB_TMP/cli.out
ERR=$BB_TMP/cli.err
# cli ARGS...: run berth with admin credentials from the environment; sets RC
cli() {
    BERTH_URL=$SRV_URL BERTH_USER=$ADMIN_USER BERTH_PASSWORD=$ADMIN_PASS "$B" "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

P=$(rand_name cli)
NPW="Cl-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"

cli project add "$P" --storage-limit 5000000
check_eq "project add exit 0" "$RC" 0
check_contains "project add says so" "$(cat "$OUT")" "project $P created"
cli project add "$P"
check_eq "duplicate project exit 1" "$RC" 1
check_contains "conflict message" "$(cat "$ERR")" "HTTP 409"
cli project ls
check_eq "project ls exit 0" "$RC" 0
check_true "project ls table lists it" grep -q " $P " "$OUT"
check_true "table header" grep -q "^ID  *NAME" "$OUT"
cli project ls --json
check_true "project ls --json is Harbor JSON" jq -e "any(.[]; .name == \"$P\")" "$OUT"

# credentials from flags and stdin
printf '%s\n' "$ADMIN_PASS" | "$B" project ls --url "$SRV_URL" --user "$ADMIN_USER" --password-stdin >"$OUT" 2>"$ERR"
check_eq "--password-stdin works" "$?" 0
printf 'wrong\n' | "$B" project ls --url "$SRV_URL" --user "$ADMIN_USER" --password-stdin >"$OUT" 2>"$ERR"
check_eq "wrong password exit 1" "$?" 1
check_contains "401 reported" "$(cat "$ERR")" "HTTP 401"
"$B" project ls >"$OUT" 2>"$ERR"
check_eq "no URL is a usage error" "$?" 2

# users
printf '%s\n' "$NPW" | BERTH_URL=$SRV_URL BERTH_USER=$ADMIN_USER BERTH_PASSWORD=$ADMIN_PASS \
    "$B" user add cliuser --email c@example.com >"$OUT" 2>"$ERR"
check_eq "user add exit 0" "$?" 0
req_as "cliuser:$NPW" GET /api/v2.0/users/current
check_status "new user logs in with the stdin password" 200
cli user ls
check_true "user ls lists it" grep -q " cliuser " "$OUT"
NPW2="Cm-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"
printf '%s\n' "$NPW2" | BERTH_URL=$SRV_URL BERTH_USER=$ADMIN_USER BERTH_PASSWORD=$ADMIN_PASS \
    "$B" user passwd cliuser >"$OUT" 2>"$ERR"
check_eq "user passwd over the API exit 0" "$?" 0
req_as "cliuser:$NPW2" GET /api/v2.0/users/current
check_status "new password works" 200

# members
cli member add "$P" cliuser --role developer
check_eq "member add exit 0" "$RC" 0
cli member ls "$P"
check_true "member ls shows the role" grep -q "cliuser  *developer" "$OUT"
cli member add "$P" cliuser --role boss
check_eq "bad role is a usage error" "$RC" 2
cli member rm "$P" cliuser
check_eq "member rm exit 0" "$RC" 0
cli member rm "$P" cliuser
check_eq "member rm of a non-member exit 1" "$RC" 1

# robots
cli robot add ci --project "$P" --access pull,push
check_eq "robot add exit 0" "$RC" 0
SECRET=$(sed -n 's/^secret: //p' "$OUT")
RID=$(sed -n 's/.*(id \([0-9]*\)).*/\1/p' "$OUT")
RNAME=$(sed -n 's/^robot \([^ ]*\) (id.*/\1/p' "$OUT")
check_match "secret printed once" "$SECRET" '^[A-Za-z0-9]{8,}$'
req_as "$RNAME:$SECRET" GET "/v2/$P/app/tags/list"
check_ne "robot authenticates on /v2/" "$R_STATUS" 401
cli robot ls
check_true "robot ls lists it" grep -qF "$RNAME" "$OUT"
cli robot refresh "$RID"
check_eq "robot refresh exit 0" "$RC" 0
NEWSECRET=$(sed -n 's/^secret: //p' "$OUT")
check_ne "refresh gives a new secret" "$NEWSECRET" "$SECRET"
req_as "$RNAME:$SECRET" GET "/v2/$P/app/tags/list"
check_status "old secret refused" 401
cli robot rm "$RID"
check_eq "robot rm exit 0" "$RC" 0
cli robot rm abc
check_eq "robot rm bad id usage error" "$RC" 2

# removal
cli user rm cliuser
check_eq "user rm exit 0" "$RC" 0
cli project rm "$P"
check_eq "project rm exit 0" "$RC" 0
cli project rm "$P"
check_eq "project rm unknown exit 1" "$RC" 1

# audit: the CLI's changes are in the log; purge offline
req GET "/api/v2.0/audit-logs?q=resource_type%3Dproject,operation%3Ddelete"
check_jq "CLI delete audited" "any(.[]; .resource | contains(\"$P\"))"
"$B" audit purge --older-than 30x --data "$SRV_DATA" >"$OUT" 2>"$ERR"
check_eq "bad age is a usage error" "$?" 2
"$B" audit purge --older-than 30d --data "$SRV_DATA" >"$OUT" 2>"$ERR"
check_eq "audit purge 30d exit 0" "$?" 0
check_contains "nothing that old" "$(cat "$OUT")" "removed 0 audit events"
# "older than 0s" spares events of the current second: let the clock tick over once
t0=$(date +%s)
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done
"$B" audit purge --older-than 0s --data "$SRV_DATA" >"$OUT" 2>"$ERR"
check_eq "audit purge 0s exit 0" "$?" 0
check_match "removed everything" "$(cat "$OUT")" '^removed [1-9][0-9]* audit events'
"$B" audit purge --older-than 1d --data "$BB_TMP/nowhere" >"$OUT" 2>"$ERR"
check_eq "purge without a database exit 1" "$?" 1

# the offline password reset still works with --data
OPW="Of-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"
printf '%s\n' "$OPW" | BERTH_URL=$SRV_URL "$B" user passwd admin --data "$SRV_DATA" >"$OUT" 2>"$ERR"
check_eq "offline passwd with --data exit 0" "$?" 0
check_true "log free of CLI passwords" bash -c "! grep -aqF -e '$NPW' -e '$NPW2' -e '$OPW' '$SRV_LOG'"

srv_stop
finish
