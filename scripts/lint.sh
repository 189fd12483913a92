#!/bin/sh
# lint.sh - `make lint`: every check a reviewer should not have to do by eye.
#
#   1. clang-format --dry-run --Werror on every .c/.h (layout is the tool's business)
#   2. cppcheck --std=c11 --enable=warning,portability,performance --inline-suppr
#   3. banned calls: sprintf vsprintf strcpy strcat gets strtok atoi system
#   4. layer arrows, libmicrohttpd outside http/, circles of calls inside a folder
#      (scripts/check-deps.sh; CIRCLE_STRICT names the folders where a circle fails)
#   5. clang-tidy with clang-analyzer-*, bugprone-*, cert-* (only with LINT_TIDY=1: slow, and it
#      needs the build's include flags from pkg-config)
# Files are the .c/.h git knows or would add (tracked plus untracked, minus .gitignore, so the
# generated registry/ui_assets.c and build/ are skipped); without git, a find over the sources.
# Every check runs even when an earlier one fails; exit 1 if any failed. A check whose tool is
# missing prints "SKIP: <why>" and counts as a failure unless LINT_ALLOW_SKIP=1.
set -u
cd "$(dirname "$0")/.." || exit 2

DIRS="common config storage auth http registry api service cli puller tests"
failed=""
skipped=""

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    FILES=$(git ls-files --cached --others --exclude-standard -- $DIRS |
        grep -E '\.[ch]$' | grep -v '/node_modules/' | sort -u)
else
    # shellcheck disable=SC2086
    FILES=$(find $DIRS -name '*.[ch]' -not -path '*/node_modules/*' 2>/dev/null |
        grep -v '^registry/ui_assets\.c$' | sort)
fi
# a file listed by git but deleted in the work tree is not linted
EXISTING=""
for f in $FILES; do
    [ -f "$f" ] && EXISTING="$EXISTING $f"
done
FILES=$EXISTING
if [ -z "$FILES" ]; then
    echo "lint: no source files found" >&2
    exit 1
fi
nfiles=$(echo "$FILES" | wc -w)

skip() {
    echo "SKIP: $1" >&2
    skipped="$skipped $2"
}

# 1. clang-format
if command -v clang-format >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    if clang-format --dry-run --Werror $FILES >/tmp/lint-format.$$ 2>&1; then
        echo "lint: clang-format ok ($nfiles files)"
    else
        grep -E '^[^ ].*: (error|warning):' /tmp/lint-format.$$ | cut -d: -f1 | sort | uniq -c |
            awk '{print "lint: clang-format: " $2 " (" $1 " places)"}' >&2
        echo "lint: clang-format found unformatted code; fix with clang-format -i FILE" >&2
        failed="$failed clang-format"
    fi
    rm -f /tmp/lint-format.$$
else
    skip "clang-format not installed (apt-get install clang-format)" clang-format
fi

# 2. cppcheck
if command -v cppcheck >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    if cppcheck --std=c11 --enable=warning,portability,performance --inline-suppr \
            --error-exitcode=1 --quiet -j 2 -I. -D__linux__ -D__GNUC__ \
            --suppress=missingIncludeSystem --suppress=unmatchedSuppression \
            --template='{file}:{line}: {severity} ({id}): {message}' $FILES; then
        echo "lint: cppcheck ok"
    else
        echo "lint: cppcheck found problems (above)" >&2
        failed="$failed cppcheck"
    fi
else
    skip "cppcheck not installed (apt-get install cppcheck)" cppcheck
fi

# 3. banned calls. Comments and string literals are blanked first so prose that mentions
# "system (" or a message quoting strcpy is not flagged; the leading non-identifier character
# keeps snprintf, vsnprintf and fgets out of the match, the '(' right after the name strtok_r.
BANNED='(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|gets|strtok|atoi|system)[[:space:]]*\('
banned_out=""
for f in $FILES; do
    hits=$(sed -E -e 's/"([^"\\]|\\.)*"/""/g' -e "s/'([^'\\\\]|\\\\.)'/''/g" \
        -e 's:/\*.*\*/::g' -e 's://.*$::' -e 's:^[[:space:]]*\*.*$::' -e 's:/\*.*$::' "$f" |
        grep -nE "$BANNED")
    if [ -n "$hits" ]; then
        banned_out="$banned_out$(printf '%s\n' "$hits" | sed "s|^|$f:|")
"
    fi
done
if [ -n "$banned_out" ]; then
    printf '%s' "$banned_out" >&2
    echo "lint: banned calls found (use snprintf + truncation check, memcpy, strtoull)" >&2
    failed="$failed banned-calls"
else
    echo "lint: no banned calls"
fi

# 4. layer arrows
if ! sh scripts/check-deps.sh; then
    failed="$failed check-deps"
fi

# 5. clang-tidy (opt-in)
if [ "${LINT_TIDY:-0}" = 1 ]; then
    if command -v clang-tidy >/dev/null 2>&1; then
        PKG_CFLAGS=$(pkg-config --cflags libmicrohttpd openssl jansson sqlite3 libarchive libcurl yaml-0.1 2>/dev/null)
        CHECKS='-*,clang-analyzer-*,bugprone-*,cert-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-cert-err33-c,-bugprone-easily-swappable-parameters'
        tidy_fail=0
        for f in $FILES; do
            case $f in *.c) ;; *) continue ;; esac
            # shellcheck disable=SC2086
            if ! clang-tidy --quiet --checks="$CHECKS" --warnings-as-errors='*' "$f" -- \
                    -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $PKG_CFLAGS \
                    >/tmp/lint-tidy.$$ 2>&1; then
                grep -E '(error|warning):' /tmp/lint-tidy.$$ >&2
                tidy_fail=1
            fi
        done
        rm -f /tmp/lint-tidy.$$
        if [ $tidy_fail = 1 ]; then
            failed="$failed clang-tidy"
        else
            echo "lint: clang-tidy ok"
        fi
    else
        skip "clang-tidy not installed (apt-get install clang-tidy)" clang-tidy
    fi
fi

if [ -n "$skipped" ] && [ "${LINT_ALLOW_SKIP:-0}" != 1 ]; then
    failed="$failed$skipped"
fi
if [ -n "$failed" ]; then
    echo "lint: FAILED:$failed" >&2
    exit 1
fi
echo "lint: all checks passed"
