#!/usr/bin/env bash
# pull_tty.sh - `berth pull` on a terminal: run inside tmux, check that the per-blob and total
# progress bars are drawn while the pull runs and that the final state says complete; then an
# image with more blobs than the terminal has rows: the view is capped (active bars plus a
# summary line), no line is wider than the terminal and no redraw scrolls.
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
    if pane | grep -q '^total '; then ok "a total line is drawn"; else not_ok "a total line is drawn" "$(pane)"; fi
else
    not_ok "a progress bar with rate and ETA is drawn while pulling" "$(pane)"
fi
wait_until 30 finished || not_ok "pull finishes" "$(pane)"
pane >"$PL_TMP/final"
if grep -q '^EXIT=0' "$PL_TMP/final"; then ok "pull exits 0"; else not_ok "pull exits 0" "$(cat "$PL_TMP/final")"; fi
check "final screen says complete" grep -q '^complete: 4 blobs' "$PL_TMP/final"
check "final total bar is full" grep -qE '^total +\[=+\]' "$PL_TMP/final"
check_eq "bars redrawn in place (one total line on screen)" "$(grep -c '^total ' "$PL_TMP/final")" 1
"${T[@]}" kill-session -t pull 2>/dev/null

# --- many layers on a short terminal: 43 blobs, 20 rows. The view must stay within the rows
# (the active blobs plus a summary line) so redraws never scroll: a scrolled redraw leaves
# copies of the total line in the scrollback, so the whole history must hold exactly one.
python3 "$FIX/mkimage.py" "$PL_TMP/many" v1 --layers 40 --random-mib 4 --seed 8 >"$PL_TMP/many.d"
push "$PL_TMP/many:v1" "$REG_HOST/test/many:v1" || { not_ok "push many"; finish; }
"${T[@]}" new-session -d -s many -x 100 -y 20 "bash --norc --noprofile" || { not_ok "tmux starts"; finish; }
PL_PIDS="$PL_PIDS $("${T[@]}" display-message -p -t many '#{pid}')"
"${T[@]}" send-keys -t many "clear; '$BERTH' pull --plain-http --limit-rate 1048576 --oci '$PL_TMP/m' '$REG_HOST/test/many:v1'; echo EXIT=\$?" Enter
mpane() { "${T[@]}" capture-pane -p -t many; }
mhist() { "${T[@]}" capture-pane -p -S - -E - -t many; }
summary_drawn() { mpane | grep -qE '^\+ 43 blobs: [1-9][0-9]* active [0-9]+ waiting [0-9]+ done 0 failed'; }
if wait_until 20 summary_drawn; then
    ok "many layers: active bars plus a summary line while pulling"
    mpane >"$PL_TMP/mid"
    n=$(grep -c . "$PL_TMP/mid")
    if [ "$(grep -cE '\[=*>? *\] .*/s ETA' "$PL_TMP/mid")" -ge 1 ] && [ "$n" -le 20 ]; then
        ok "many layers: the active blob's bar is drawn, the screen is not overfull"
    else
        not_ok "many layers: active bar drawn" "$(cat "$PL_TMP/mid")"
    fi
else
    not_ok "many layers: summary line drawn while pulling" "$(mpane)"
fi
mfinished() { mpane | grep -q '^EXIT=[0-9]'; }
wait_until 40 mfinished || not_ok "many layers: pull finishes" "$(mpane)"
mhist >"$PL_TMP/mhist"
check "many layers: pull exits 0" grep -q '^EXIT=0' "$PL_TMP/mhist"
check "many layers: complete line" grep -q '^complete: 43 blobs' "$PL_TMP/mhist"
check "many layers: final summary counts every blob done" grep -q '^43 blobs: 0 active 0 waiting 43 done 0 failed' "$PL_TMP/mhist"
# a redraw taller than the screen scrolls its top lines (blob lines) into the scrollback, where
# they stay as copies: every blob line and the total line must appear at most once in all of it
check_eq "many layers: never scrolled (one total line in the whole scrollback)" \
    "$(grep -c '^total ' "$PL_TMP/mhist")" 1
check_eq "many layers: never scrolled (no blob line twice in the scrollback)" \
    "$(grep -E '^[0-9a-f]{12} ' "$PL_TMP/mhist" | cut -c1-12 | sort | uniq -d | wc -l)" 0
# the view's lines (blob bars, the summary, the total) are cut to the width; notes may wrap
VIEW_RE='^([0-9a-f]{12} |total |\+ [0-9]+ blobs|[0-9]+ blobs: )'
if grep -E "$VIEW_RE" "$PL_TMP/mhist" | awk 'length($0) > 99 { bad = 1 } END { exit bad }'; then
    ok "many layers: no view line wider than the terminal"
else
    not_ok "many layers: no view line wider than the terminal" "$(grep -E "$VIEW_RE" "$PL_TMP/mhist" | awk 'length($0) > 99' | head -3)"
fi
"${T[@]}" kill-server 2>/dev/null
finish
