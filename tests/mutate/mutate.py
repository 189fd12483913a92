#!/usr/bin/env python3
"""mutate.py - `make mutate`: plant one-line bugs one at a time and check that a test notices.

Reads tests/mutate/mutations.txt (format at its top). For every mutation:
  1. the file's original text must contain the `from` string exactly once, or the run stops
     before anything is built (the list stays in step with the code);
  2. the mutated file is written into a scratch copy of the working tree (a temp directory
     filled with `git ls-files` plus build/asan/, so only what the mutation touches is rebuilt);
  3. the ASan build of only the named test programs is made there (`make MODE=asan ...`);
  4. the named tests run with a time limit; any failing one kills the mutation;
  5. the original file is put back before the next mutation.
Before the first mutation the same tests run once on the unmutated copy: a test that fails
there would kill every mutation and prove nothing, so the run stops.

Prints one line per mutation (killed, with the test that caught it, or SURVIVED), then the
survivors. Exit status 0 when every mutation was killed or is marked `equivalent:` with a
reason; 1 when one survived, did not build, or the list is out of step with the code.

Environment:
  MUTATE_ONLY=id,id     run only these mutations
  MUTATE_TIMEOUT=300    seconds per test program
  MUTATE_JOBS=2         make -j
  MUTATE_KEEP=1         keep the scratch directory (its path is printed)
Not part of `make test`. Runs on one scratch copy, one mutation at a time: safe beside other
work in the same tree, which it never writes."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIST = os.path.join(ROOT, "tests", "mutate", "mutations.txt")
TIMEOUT = int(os.environ.get("MUTATE_TIMEOUT", "300"))
JOBS = os.environ.get("MUTATE_JOBS", "2")
KEYS = ("id", "file", "from", "to", "tests", "equivalent")


def die(msg):
    print("mutate: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_list(path):
    muts, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if line.strip() == "":
                if cur:
                    muts.append(cur)
                    cur = {}
                continue
            key, sep, val = line.partition(": ")
            if not sep or key not in KEYS:
                die("%s:%d: expected one of %s, got %r" % (path, n, ", ".join(KEYS), line))
            if key in cur:
                die("%s:%d: %s given twice" % (path, n, key))
            cur[key] = val
            cur.setdefault("line", n)
    if cur:
        muts.append(cur)
    ids = set()
    for m in muts:
        for k in ("id", "file", "from", "to", "tests"):
            if k not in m:
                die("%s:%d: mutation without %s" % (path, m["line"], k))
        if m["id"] in ids:
            die("duplicate id %s" % m["id"])
        ids.add(m["id"])
        if m["from"] == m["to"]:
            die("%s: from and to are the same" % m["id"])
        m["tests"] = m["tests"].split()
    return muts


def target_of(test):
    kind, _, name = test.partition(":")
    if not name:
        return "build/asan/tests/" + kind
    if kind == "bb":
        return "build/asan/berth"
    if kind == "fuzz":
        return "build/asan/fuzz/" + name
    die("unknown test kind in %r (unit path, bb:SUITE or fuzz:TARGET)" % test)
    return None


def command_of(test):
    kind, _, name = test.partition(":")
    if not name:
        return ["build/asan/tests/" + kind]
    if kind == "bb":
        return ["bash", "tests/blackbox/%s.sh" % name]
    return ["build/asan/fuzz/" + name, "tests/fuzz/corpus/" + name]


def check_in_step(muts):
    bad = 0
    for m in muts:
        path = os.path.join(ROOT, m["file"])
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            print("mutate: %s: cannot read %s: %s" % (m["id"], m["file"], e), file=sys.stderr)
            bad += 1
            continue
        n = text.count(m["from"])
        if n != 1:
            print("mutate: %s: %r occurs %d times in %s (want exactly 1)"
                  % (m["id"], m["from"], n, m["file"]), file=sys.stderr)
            bad += 1
        m["text"] = text
        for t in m["tests"]:
            kind, _, name = t.partition(":")
            src = None
            if not name:
                src = kind + ".c"
            elif kind == "bb":
                src = "tests/blackbox/%s.sh" % name
            elif kind == "fuzz":
                src = "tests/fuzz/%s.c" % name
            if src is None or not os.path.exists(os.path.join(ROOT, src)):
                print("mutate: %s: no test %s" % (m["id"], t), file=sys.stderr)
                bad += 1
    if bad:
        die("%d mutation(s) out of step with the code; fix tests/mutate/mutations.txt" % bad)


def scratch_copy():
    tmp = tempfile.mkdtemp(prefix="berth-mutate-")
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        dst = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    if os.path.isdir(os.path.join(ROOT, "build", "asan")):
        # objects and their .d files keep their times, so make rebuilds only what changes
        os.makedirs(os.path.join(tmp, "build"), exist_ok=True)
        subprocess.run(["cp", "-a", os.path.join(ROOT, "build", "asan"),
                        os.path.join(tmp, "build", "asan")], check=True)
    return tmp


def build(tmp, targets, log):
    with open(log, "w") as out:
        r = subprocess.run(["make", "--no-print-directory", "-j" + JOBS, "MODE=asan"]
                           + sorted(set(targets)), cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    return r.returncode == 0


def run_test(tmp, test, log):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    env.pop("BERTH_BIN", None)
    env.pop("BERTH_PULL_BIN", None)
    with open(log, "w") as out:
        # its own process group, so a timeout also stops the servers a black-box suite started
        p = subprocess.Popen(command_of(test), cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            return p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return 124


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    muts = parse_list(LIST)
    only = os.environ.get("MUTATE_ONLY")
    if only:
        want = set(only.split(","))
        unknown = want - {m["id"] for m in muts}
        if unknown:
            die("MUTATE_ONLY names unknown mutations: " + ", ".join(sorted(unknown)))
        muts = [m for m in muts if m["id"] in want]
    check_in_step(muts)
    start = time.time()
    tmp = scratch_copy()
    logs = os.path.join(tmp, "mutate-logs")
    os.makedirs(logs)
    print("mutate: %d mutations, scratch copy %s" % (len(muts), tmp), flush=True)

    tests = sorted({t for m in muts for t in m["tests"]})
    if not build(tmp, [target_of(t) for t in tests], os.path.join(logs, "baseline-build.log")):
        die("the unmutated tree does not build (see %s/baseline-build.log)" % logs)
    for t in tests:
        rc = run_test(tmp, t, os.path.join(logs, "baseline-%s.log" % t.replace("/", "_")))
        if rc != 0:
            die("%s fails on the unmutated tree (exit %d; %s/baseline-*.log): it cannot tell a "
                "mutation from the code as it is" % (t, rc, logs))
    print("mutate: baseline: %d test programs pass unmutated (%ds)"
          % (len(tests), time.time() - start), flush=True)

    killed, survived, broken, equivalent = [], [], [], []
    for i, m in enumerate(muts, 1):
        t0 = time.time()
        path = os.path.join(tmp, m["file"])
        write(path, m["text"].replace(m["from"], m["to"], 1))
        tag = "%2d/%d %-28s" % (i, len(muts), m["id"])
        try:
            blog = os.path.join(logs, "%s-build.log" % m["id"])
            if not build(tmp, [target_of(t) for t in m["tests"]], blog):
                print("%s DOES NOT BUILD (%s)" % (tag, blog), flush=True)
                broken.append(m)
                continue
            by = None
            for t in m["tests"]:
                rc = run_test(tmp, t, os.path.join(logs, "%s-%s.log" % (m["id"], t.replace("/", "_"))))
                if rc != 0:
                    by = "%s (exit %d)" % (t, rc)
                    break
            secs = time.time() - t0
            if by is not None:
                print("%s killed by %s %ds" % (tag, by, secs), flush=True)
                killed.append(m)
            elif "equivalent" in m:
                print("%s survived, equivalent: %s %ds" % (tag, m["equivalent"], secs), flush=True)
                equivalent.append(m)
            else:
                print("%s SURVIVED %s %ds" % (tag, " ".join(m["tests"]), secs), flush=True)
                survived.append(m)
        finally:
            write(path, m["text"])

    print()
    print("mutate: %d killed, %d survived, %d equivalent, %d did not build, %d mutations, %ds"
          % (len(killed), len(survived), len(equivalent), len(broken), len(muts),
             time.time() - start))
    for m in survived:
        print("mutate: SURVIVOR %s: %s: %r -> %r (tests: %s)"
              % (m["id"], m["file"], m["from"], m["to"], " ".join(m["tests"])))
    for m in equivalent:
        print("mutate: equivalent %s: %s" % (m["id"], m["equivalent"]))
    for m in broken:
        print("mutate: DOES NOT BUILD %s (fix the mutation)" % m["id"])
    if os.environ.get("MUTATE_KEEP") == "1":
        print("mutate: scratch copy kept: %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if survived or broken else 0


if __name__ == "__main__":
    sys.exit(main())
