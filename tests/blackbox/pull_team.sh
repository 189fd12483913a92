#!/usr/bin/env bash
# pull_team.sh - the team's story, end to end: a project is created, a developer logs in with
# podman and pushes, podman's auth file becomes a Kubernetes imagePullSecret (kubectl create
# secret --dry-run=client when kubectl is here, the same YAML by hand otherwise), a "pod" pulls
# twice with `berth pull --secret`, and the admin reads pull_count 2 at once from the API and
# from `berth stats --url`.
. "$(dirname "$0")/lib.sh"

API=/api/v2.0
BERTH_CLI=${BERTH_CLI:-$BERTH_BIN}

if ! command -v podman >/dev/null 2>&1; then
    skip "the team story" "podman not installed (make deps-test)"
    finish
fi
POD=(podman --root "$BB_TMP/podroot" --runroot "$BB_TMP/podrun" --storage-driver vfs)
AUTH=$BB_TMP/auth.json

srv_start

# the project and its developer
req POST "$API/projects" -H 'Content-Type: application/json' \
    --data '{"project_name":"team","metadata":{"public":"false"}}'
check_status "create project team -> 201" 201
req POST "$API/users" -H 'Content-Type: application/json' \
    --data '{"username":"dev","password":"Dev-Pass-123","email":"dev@x.y","realname":"dev"}'
check_status "create user dev -> 201" 201
req POST "$API/projects/team/members" -H 'Content-Type: application/json' \
    --data '{"role_id":2,"member_user":{"username":"dev"}}'
check_status "dev is a developer of team -> 201" 201

# an image to push: made here, put in the registry's library by skopeo, pulled into podman
mk_oci_layout "$BB_TMP/layout" 1.0
check_true "skopeo puts a seed image in library" skopeo_push "$BB_TMP/layout" 1.0 library/seed:1.0
check_true "podman pulls the seed image" "${POD[@]}" pull -q --tls-verify=false \
    --creds "$ADMIN_USER:$ADMIN_PASS" "$SRV_HOSTPORT/library/seed:1.0"
check_true "podman login as dev" "${POD[@]}" login --tls-verify=false --authfile "$AUTH" \
    -u dev -p Dev-Pass-123 "$SRV_HOSTPORT"
check_true "podman push team/app:1.0 as dev" "${POD[@]}" push -q --tls-verify=false \
    --authfile "$AUTH" "$SRV_HOSTPORT/library/seed:1.0" "docker://$SRV_HOSTPORT/team/app:1.0"

# podman's auth file as an imagePullSecret
if command -v kubectl >/dev/null 2>&1 &&
    kubectl create secret generic regcred --type=kubernetes.io/dockerconfigjson \
        --from-file=.dockerconfigjson="$AUTH" --dry-run=client -o yaml \
        >"$BB_TMP/secret.yaml" 2>"$BB_TMP/kubectl.err"; then
    ok "kubectl create secret --dry-run=client turns the auth file into a Secret"
else
    # the same Secret kubectl writes, by hand
    cat >"$BB_TMP/secret.yaml" <<EOF
apiVersion: v1
data:
  .dockerconfigjson: $(base64 -w0 "$AUTH")
kind: Secret
metadata:
  name: regcred
type: kubernetes.io/dockerconfigjson
EOF
    ok "the Secret YAML built by hand (kubectl unavailable: $(head -c 80 "$BB_TMP/kubectl.err" 2>/dev/null))"
fi
check_contains "the Secret has the dockerconfigjson type" "$(cat "$BB_TMP/secret.yaml")" \
    "kubernetes.io/dockerconfigjson"

# the pod pulls twice; the admin reads 2 at once
check_eq "before any pull: pull_count 0" \
    "$(req GET "$API/projects/team/repositories/app" && jq -r .pull_count "$R_BODY")" 0
for i in 1 2; do
    check_true "berth pull --secret, pull $i" "$BERTH_CLI" pull --quiet --plain-http \
        --secret "$BB_TMP/secret.yaml" --oci "$BB_TMP/pulled$i" "$SRV_HOSTPORT/team/app:1.0"
done
req GET "$API/projects/team/repositories/app"
check_jq "the API shows pull_count 2 at once" '.pull_count == 2'
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --repo team/app --json 2>"$BB_TMP/stats.err")
check_eq "berth stats --url shows pull_count 2 at once" \
    "$(jq -r '.repositories[0].pull_count' <<<"$out")" 2
check_eq "berth stats --url: the tag 1.0 was pulled twice" \
    "$(jq -r '.repositories[0].artifacts[0].tags[0].pull_count' <<<"$out")" 2
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --repo team/app 2>"$BB_TMP/stats.err")
check_match "berth stats --url (table): team/app with 2 pulls" "$out" 'team/app +2'
req GET "$API/projects/team/repositories/app/pulls/timeseries?granularity=hour&group_by=user"
check_jq "the history: both pulls by dev, with berth pull" \
    '[.series[] | select(.key == "dev")][0] | .pulls == 2 and .kind == "user"'
req_as dev:Dev-Pass-123 GET "$API/projects/team/repositories/app/pulls/timeseries"
check_status "a member reads the history of their project -> 200" 200
req_as dev:Dev-Pass-123 GET "$API/projects/library/pulls/timeseries"
check_status "not of another private project -> 403" 403
req_as dev:Dev-Pass-123 GET "$API/pulls/top"
check_status "the system-wide top list is for administrators -> 403" 403
srv_stop
finish
