"""Crash safety of the recorder: SIGKILL during capture never yields a wrong "complete" call.

RV_CRASH_ITER times (default 50; scripts/crash-long.sh runs 1000): a fresh store, `capture -r`
of the first RV_CRASH_CALLS (default 31, i.e. all) calls of the `consent` scenario in the background,
SIGKILL after a random delay (seeded RNG, spread over the measured duration of an uninterrupted
run), then `calls --json` must work and every call reported "complete": true must
  * have the truth's consent state,
  * export (pcap) successfully, i.e. every chunk authenticates,
  * hold exactly the truth's kept packets (pre_consent_audio = keep): none missing, none foreign.
Calls reported incomplete may fail to export; if their export succeeds it may only hold packets of
the truth's kept set.  An uninterrupted run first checks the baseline (every call complete).
Total time stays under ~3 minutes with the defaults.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402

ITER = int(os.environ.get("RV_CRASH_ITER", "50"))
NCALLS = int(os.environ.get("RV_CRASH_CALLS", "31"))
SEED = int(os.environ.get("RV_CRASH_SEED", "20261128"))
BUDGET = float(os.environ.get("RV_CRASH_BUDGET", "170"))  # seconds for the loop (default run)


def check_store(tap, it, conf, truth, d, verbose):
    """Returns (number of complete calls, problems)."""
    rc, calls, err = R.calls_json(conf)
    if rc != 0 or not isinstance(calls, list):
        return 0, ["calls --json failed (rc %d): %s" % (rc, err[-500:])]
    tcalls = {c["call_id"]: c for c in truth["calls"]}
    probs = []
    ncomplete = 0
    by = {}
    for c in calls:
        by.setdefault(c.get("call_id"), []).append(c)
    for cid, recs in by.items():
        tc = tcalls.get(cid)
        if tc is None:
            probs.append("unknown call %r reported" % cid)
            continue
        complete = all(r.get("complete") is True for r in recs)
        if len(recs) != 1:
            probs.append("%s: %d records for one call in a fresh store" % (tc["scenario_kind"], len(recs)))
        want_n = sum(len(v) for v in tc["kept"]["keep"].values())
        out = os.path.join(d, "x", cid.split("@")[0])
        if complete:
            ncomplete += 1
            if recs[0].get("consent", {}).get("state") != tc["consent"]["state"]:
                probs.append("%s: complete with consent %r, want %r" % (
                    tc["scenario_kind"], recs[0].get("consent", {}).get("state"), tc["consent"]["state"]))
            if want_n == 0:
                continue
            got_n = sum(s.get("packets_kept", 0) for r in recs for s in r.get("streams", []))
            if got_n != want_n:
                probs.append("%s: complete with packets_kept %d, truth %d" % (tc["scenario_kind"], got_n, want_n))
            rc, _, err = R.export(conf, cid, out)
            if rc != 0:
                probs.append("%s: complete but export fails: %s" % (tc["scenario_kind"], err[-300:]))
                continue
            got, unmatched = R.stream_sets(tc, R.exported_rtp(R.record_files(out, recs, "pcap")))
            p = R.compare_kept(tc, "keep", got)
            if unmatched:
                p.append("%d foreign packets" % unmatched)
            probs += ["%s (complete): %s" % (tc["scenario_kind"], x) for x in p]
        elif want_n:
            rc, _, err = R.export(conf, cid, out)
            if rc == 0:
                got, unmatched = R.stream_sets(tc, R.exported_rtp(R.record_files(out, recs, "pcap")))
                want = {k: set(tuple(x) for x in v) for k, v in tc["kept"]["keep"].items()}
                extra = sum(len(set(v) - want.get(k, set())) for k, v in got.items()) + unmatched
                if extra:
                    probs.append("%s (incomplete): export holds %d packets not in the truth" % (
                        tc["scenario_kind"], extra))
            elif R.files_in(out):
                probs.append("%s (incomplete): failed export left files %r" % (tc["scenario_kind"], R.files_in(out)))
        shutil.rmtree(out, ignore_errors=True)
    return ncomplete, probs


def main():
    tap = rvtest.Tap()
    pcap, truth = rvtest.generate("consent", 11, ["--calls", str(NCALLS)])
    # baseline: uninterrupted run
    d, conf, store, _ = R.make_env("crash-base", "keep")
    t0 = time.monotonic()
    p = R.capture(conf, pcap)
    dur = time.monotonic() - t0
    tap.ok(p.returncode == 0, "baseline capture exits 0 (%.2f s)" % dur, p.stderr.decode("utf-8", "replace")[-800:])
    n, probs = check_store(tap, -1, conf, truth, d, True)
    tap.ok(not probs and n == len(truth["calls"]), "baseline: all %d calls complete and exact (%d complete)" % (
        len(truth["calls"]), n), "\n".join(probs))
    shutil.rmtree(d, ignore_errors=True)
    rng = random.Random(SEED)
    start = time.monotonic()
    stats = {"killed": 0, "finished": 0, "complete_calls": 0}
    failures = 0
    for it in range(ITER):
        d, conf, store, _ = R.make_env("crash", "keep")
        delay = rng.uniform(0.0, max(dur, 0.05) * 1.1)
        proc = subprocess.Popen([rvtest.BIN, "capture", "-c", conf, "-r", pcap],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            stats["finished"] += 1
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stats["killed"] += 1
        # killed before the LMDB environment existed: same as no store at all
        if not any("data.mdb" in fs for _, _, fs in os.walk(store)):
            stats["no_store_yet"] = stats.get("no_store_yet", 0) + 1
            shutil.rmtree(d, ignore_errors=True)
            continue
        n, probs = check_store(tap, it, conf, truth, d, False)
        stats["complete_calls"] += n
        if probs and probs[0].startswith("calls --json failed"):
            ed = [r for r, _, fs in os.walk(store) if "data.mdb" in fs]
            st = subprocess.run(["mdb_stat", "-a", ed[0]], capture_output=True, text=True) \
                if ed and shutil.which("mdb_stat") else None
            if st is not None and "Status of " not in st.stdout.replace("Status of Main DB", ""):
                probs.append("(the LMDB environment holds no database yet: killed before the first commit; "
                             "the store is empty, not corrupt, and `calls` must still work)")
        if probs:
            failures += 1
        # one TAP line per failing iteration, and a few passing ones
        if probs or it < 3 or it == ITER - 1:
            tap.ok(not probs, "iteration %d: SIGKILL after %.3f s: %d complete calls exact and exportable" % (
                it, delay, n), "\n".join(probs))
        shutil.rmtree(d, ignore_errors=True)
        if ITER <= 50 and time.monotonic() - start > BUDGET:
            tap.diag("time budget of %.0f s reached after %d iterations" % (BUDGET, it + 1))
            break
    tap.diag("crash loop: %r, %.1f s" % (stats, time.monotonic() - start))
    tap.ok(stats["killed"] > 0, "at least one capture was killed mid-run (%d)" % stats["killed"])
    tap.ok(failures == 0, "no iteration produced a wrong complete call (%d failed)" % failures)
    tap.done()


if __name__ == "__main__":
    main()
