#!/usr/bin/env bash
# pull_tty.sh - `berth pull` on a terminal: run inside tmux, check that the per-blob and total
# progress bars are drawn while the pull runs and that the final state says complete.
. "$(dirname "$0")/lib_pull.sh"

need docker-registry skopeo tmux python3 curl

reg_start tty "" || { not_ok "registry starts"; finish; }
python3 "$FIX/mkimage.py" "$PL_TMP/img" v1 --random-mib 6 --seed 7 >"$PL_TMP/img.d"
push "$PL_TMP/img:v1" "$REG_HOST/test/tty:v1" || { not_ok "push"; finish; }

SOCK=$PL_TMP/tmux.sock
T=(tmux -S "$SOCK")
"${T[@]}" new-session -d -s pull -x 160 -y 20 "bash --norc --noprofile" || { not_ok "tmux starts"; finish; }
PL_TMUX_PID=$("${T[@]}" display-message -p -t pull '#{pid}')
PL_PIDS="$PL_PIDS $PL_TMUX_PID"
"${T[@]}" send-keys -t pull "'$BERTH' pull --plain-http --limit-rate 2097152 --oci '$PL_TMP/o' '$REG_HOST/test/tty:v1'; echo EXIT=\$?" Enter

pane() { "${T[@]}" capture-pane -p -t pull; }
bar_drawn() { pane | grep -qE '\[=+>? *\] .*/s ETA'; }
finished() { pane | grep -q '^EXIT=[0-9]'; }
if wait_until 20 bar_drawn; then
    ok "a progress bar with rate and ETA is drawn while pulling"
    pane | grep -q '^total ' && ok "a total line is drawn" || not_ok "a total line is drawn" "$(pane)"
else
    not_ok "a progress bar with rate and ETA is drawn while pulling" "$(pane)"
fi
wait_until 30 finished || not_ok "pull finishes" "$(pane)"
pane >"$PL_TMP/final"
if grep -q '^EXIT=0' "$PL_TMP/final"; then ok "pull exits 0"; else not_ok "pull exits 0" "$(cat "$PL_TMP/final")"; fi
check "final screen says complete" grep -q '^complete: 4 blobs' "$PL_TMP/final"
check "final total bar is full" grep -qE '^total +\[=+\]' "$PL_TMP/final"
check_eq "bars redrawn in place (one total line on screen)" "$(grep -c '^total ' "$PL_TMP/final")" 1
"${T[@]}" kill-server 2>/dev/null
finish
