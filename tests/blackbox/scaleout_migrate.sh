#!/usr/bin/env bash
# scaleout_migrate.sh - `berth migrate` of a populated single-host data folder into PostgreSQL
# and an S3 bucket, then the same pulls byte-identical through haproxy over two replicas:
#   - a single host with two images, a 3 MiB chunked blob, a project with a member, a robot and
#     pull counts; stopped;
#   - --dry-run writes nothing and says what would move (counts, bytes);
#   - the migration moves every blob and row; a second run moves nothing and verifies it all;
#   - on the scale-out stack: the same manifests and blobs byte-identical, the pull counts, the
#     member and the robot (its secret still logs in), the admin password; berth fsck clean;
#   - a source blob that does not hash to its name is left out and makes the exit status 1;
#   - usage errors exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

API=/api/v2.0
J=(-H 'Content-Type: application/json')

# --- a populated single host ----------------------------------------------------------------------
SRC=$BB_TMP/single
srv_start "$SRC"
mk_image "$BB_TMP/img1" >/dev/null
push_image library/app v1 "$BB_TMP/img1"
D1=$IMG_DIGEST
mk_image "$BB_TMP/img2" >/dev/null
req POST "$API/projects" "${J[@]}" --data '{"project_name":"team"}'
check_status "project team" 201
push_image team/web 2.0 "$BB_TMP/img2"
D2=$IMG_DIGEST
rand_file "$BB_TMP/big" 3145728
push_blob library/app "$BB_TMP/big"
req POST "$API/users" "${J[@]}" --data '{"username":"dev1","password":"Dev1-Passw0rd!","email":"d@x.io","realname":"Dev One"}'
check_status "user dev1" 201
req POST "$API/projects/team/members" "${J[@]}" --data '{"role_id":2,"member_user":{"username":"dev1"}}'
check_status "dev1 developer of team" 201
req POST "$API/robots" "${J[@]}" --data '{"name":"ci","level":"project","duration":-1,"permissions":[{"kind":"project","namespace":"team","access":[{"resource":"repository","action":"pull"}]}]}'
check_status "robot ci" 201
ROBOT_NAME=$(jq -r .name "$R_BODY")
ROBOT_SECRET=$(jq -r .secret "$R_BODY")
for _ in 1 2 3; do req GET /v2/library/app/manifests/v1 "${ACCEPT_ALL[@]}"; done
for _ in 1 2; do req GET /v2/team/web/manifests/2.0 "${ACCEPT_ALL[@]}"; done
srv_stop

# --- the destination -------------------------------------------------------------------------------
so_backends
SO_DIR=$BB_TMP/so
if ! BERTH_BIN=$BERTH_BIN BERTH_ADMIN_PASSWORD=$ADMIN_PASS bash "$SO_SCRIPT" prepare "$SO_DIR" \
    >"$BB_TMP/prep.out" 2>&1; then
    not_ok "scaleout.sh prepare" "$(tail -n 20 "$BB_TMP/prep.out")"
    finish
fi
ok "scaleout.sh prepare (database, bucket, configuration)"
mig() { BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" migrate "$SO_DIR" "$SRC" "$@"; }

"$BERTH_BIN" migrate >"$BB_TMP/u.out" 2>&1
check_eq "migrate without --data -> exit 2" "$?" 2
"$BERTH_BIN" migrate --data "$SRC" --bogus >"$BB_TMP/u.out" 2>&1
check_eq "unknown option -> exit 2" "$?" 2
"$BERTH_BIN" migrate --data "$SRC" --metadata postgres://x@127.0.0.1:1/x --skip-blobs \
    --skip-metadata >"$BB_TMP/u.out" 2>&1
check_eq "nothing to do -> exit 2" "$?" 2

NBLOBS=$(find "$SRC/blobs" -type f | wc -l | tr -d ' ')
mig --dry-run >"$BB_TMP/dry.out" 2>"$BB_TMP/dry.err"
check_eq "dry run exits 0" "$?" 0
check_contains "dry run says so" "$(cat "$BB_TMP/dry.out")" "dry run: nothing is written"
check_match "dry run: every blob to upload" "$(cat "$BB_TMP/dry.out")" \
    "^blobs: $NBLOBS in the source \([0-9]+ bytes\), $NBLOBS to upload"
check_match "dry run: rows to copy" "$(grep '^metadata: [0-9]' "$BB_TMP/dry.out")" \
    'metadata: [0-9]+ rows in the source, [1-9][0-9]* to copy'
check_eq "dry run wrote no blob" "$(mig --dry-run 2>/dev/null | sed -n 's/.* \([0-9]*\) present and verified.*/\1/p' | head -n 1)" 0

mig >"$BB_TMP/m1.out" 2>"$BB_TMP/m1.err"
check_eq "migrate exits 0" "$?" 0
bb_diag "$(cat "$BB_TMP/m1.out")"
check_match "every blob uploaded" "$(cat "$BB_TMP/m1.out")" \
    "^blobs: $NBLOBS in the source \([0-9]+ bytes\), $NBLOBS uploaded .*, 0 failed"
check_match "progress shows counts and bytes (plain lines off a terminal)" \
    "$(cat "$BB_TMP/m1.err")" "migrate: blobs $NBLOBS/$NBLOBS, [0-9.]+/[0-9.]+ MiB"
check_match "no conflicts" "$(grep '^metadata: [0-9]' "$BB_TMP/m1.out")" ', 0 conflicts$'

mig >"$BB_TMP/m2.out" 2>"$BB_TMP/m2.err"
check_eq "second run exits 0" "$?" 0
check_match "second run: every blob present and verified, none uploaded" "$(cat "$BB_TMP/m2.out")" \
    "^blobs: $NBLOBS in the source \([0-9]+ bytes\), 0 uploaded \(0 bytes\), $NBLOBS present and verified"
check_match "second run: every row present, none copied" "$(grep '^metadata: [0-9]' "$BB_TMP/m2.out")" \
    'metadata: ([0-9]+) rows in the source, 0 copied, \1 present and verified, 0 conflicts'

# --- the scale-out stack on the migrated data --------------------------------------------------
if ! out=$(BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" start "$SO_DIR" 2>"$BB_TMP/start.err"); then
    not_ok "replicas start on the migrated data" "$(tail -n 20 "$BB_TMP/start.err")" \
        "$(tail -n 20 "$SO_DIR/r1/log" 2>/dev/null)"
    finish
fi
ok "replicas and haproxy start on the migrated data"
SRV_URL=$(printf '%s\n' "$out" | sed -n 's/^URL=//p')
SRV_HOSTPORT=${SRV_URL#http://}
SO_R1=http://127.0.0.1:$(so_env R1_PORT)
SO_R2=http://127.0.0.1:$(so_env R2_PORT)
SO_CONF=$SO_DIR/berth.conf

req GET "$API/projects/library/repositories/app"
check_jq "pull count of library/app carried over (3)" '.pull_count == 3'
req GET "$API/projects/library/repositories/app/artifacts/$D1"
check_jq "artifact pull count carried over (3)" '.pull_count == 3'
for r in "$SRV_URL" "$SO_R1" "$SO_R2"; do
    req GET "$r/v2/library/app/manifests/v1" "${ACCEPT_ALL[@]}"
    check_body_file "library/app:v1 byte-identical via ${r##*:}" "$BB_TMP/img1/manifest.json"
    req GET "$r/v2/team/web/manifests/$D2" "${ACCEPT_ALL[@]}"
    check_body_file "team/web@digest byte-identical via ${r##*:}" "$BB_TMP/img2/manifest.json"
done
req GET "/v2/library/app/blobs/$(digest_of "$BB_TMP/img1/layer.tar.gz")" -L
check_body_file "layer byte-identical" "$BB_TMP/img1/layer.tar.gz"
req GET "/v2/library/app/blobs/$(digest_of "$BB_TMP/big")" -L
check_body_file "3 MiB blob byte-identical" "$BB_TMP/big"
req GET "/v2/team/web/tags/list"
check_jq "tags carried over" '.tags == ["2.0"]'

req GET "$API/projects/team/members"
check_jq "member dev1 carried over, developer" '[.[] | select(.entity_name == "dev1")][0].role_id == 2'
req_as "dev1:Dev1-Passw0rd!" GET /v2/
check_status "dev1's password logs in" 200
req_as "$ROBOT_NAME:$ROBOT_SECRET" GET "/v2/team/web/manifests/2.0" "${ACCEPT_ALL[@]}"
check_status "the robot's secret still pulls" 200
req_as "$ROBOT_NAME:$ROBOT_SECRET" PUT "/v2/team/web/manifests/x" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$BB_TMP/img2/manifest.json"
check_err "and still may not push" 403 DENIED
req GET /v2/
check_status "admin's password logs in" 200

# new pushes after the migration get fresh ids (the sequences moved past the copied rows)
mk_image "$BB_TMP/img3" >/dev/null
push_image team/web 3.0 "$BB_TMP/img3"
req POST "$API/projects" "${J[@]}" --data '{"project_name":"after"}'
check_status "a new project after the migration" 201

"$BERTH_BIN" fsck --config "$SO_CONF" --data "$SO_DIR/r1" >"$BB_TMP/fsck.out" 2>&1
check_eq "berth fsck clean on the migrated store" "$?" 0
bb_diag "$(tail -n 3 "$BB_TMP/fsck.out")"

# a corrupt source blob is left out, and said so
ZERO=0000000000000000000000000000000000000000000000000000000000000000
mkdir -p "$SRC/blobs/sha256/00"
printf 'not what the name says' >"$SRC/blobs/sha256/00/$ZERO"
BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" migrate "$SO_DIR" "$SRC" --skip-metadata >"$BB_TMP/m3.out" 2>"$BB_TMP/m3.err"
check_eq "a corrupt source blob -> exit 1" "$?" 1
check_contains "and its name is given" "$(cat "$BB_TMP/m3.err")" "sha256:$ZERO does not hash to its name"
req HEAD "/v2/library/app/blobs/sha256:$ZERO"
check_status "it is not in the destination" 404

so_down
finish
