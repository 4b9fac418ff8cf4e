"""Consent decisions reach the audit log: after a capture, `audit list --json`
holds one "consent" entry per stored call with its record id, profile and
consent state (matching `calls --json`), between capture-start and
capture-stop, and the chain verifies."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def main():
    tap = rvtest.Tap()
    d = os.path.join(rvtest.TMP, "audit-consent")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n" % (d, d))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    pcap, truth = rvtest.generate("consent", 11)
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    tap.ok(p.returncode == 0, "capture", p.stderr[-300:])
    calls = json.loads(rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"]).stdout)
    a = rvtest.run([rvtest.BIN, "audit", "-c", conf, "list", "--json"])
    try:
        entries = json.loads(a.stdout)
    except ValueError:
        entries = None
    if not tap.ok(isinstance(entries, list), "audit list --json", a.stderr[-300:]):
        tap.done()
    cmds = [e.get("command") for e in entries]
    consent = {}
    for e in entries:
        if e.get("command") == "consent":
            det = e.get("detail")
            det = json.loads(det) if isinstance(det, str) else det
            if isinstance(det, dict) and "record_id" in det:
                consent[det["record_id"]] = det.get("consent")
    want = {c["record_id"]: c["consent"]["state"] for c in calls}
    tap.eq(consent, want, "one consent entry per call, with the call's consent state")
    first = cmds.index("capture-start") if "capture-start" in cmds else -1
    last = cmds.index("capture-stop") if "capture-stop" in cmds else -1
    idx = [i for i, c in enumerate(cmds) if c == "consent"]
    tap.ok(idx and first < min(idx) and max(idx) < last, "consent entries lie between capture-start and capture-stop")
    v = rvtest.run([rvtest.BIN, "audit", "-c", conf, "verify"])
    tap.ok(v.returncode == 0, "the chain verifies", v.stdout + v.stderr)
    tap.done()


if __name__ == "__main__":
    main()
