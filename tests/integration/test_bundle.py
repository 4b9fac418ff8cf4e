"""Evidence bundles: `export --format bundle` and `rtpvault verify-bundle DIR` (issue 6).

A bundle holds <record>.wav, <record>.pcap, manifest.json (call metadata with consent evidence,
profile, retention deadline, purpose, ticket, the audit entry id, the sha256 of each file) and
manifest.hmac = HMAC-SHA256 keyed from the KEK's audit key over manifest.json.  Checked:
the files are there and match the manifest's hashes; verify-bundle (with -c CONF or --key FILE)
exits 0; one changed byte in the WAV, in the pcap or in manifest.json, a removed file, or
another key make verify-bundle exit non-zero and name the file.
"""
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402


def vb(*args):
    p = R.rv(["verify-bundle"] + list(args))
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def main():
    tap = rvtest.Tap()
    pcap, truth = rvtest.generate("consent", 51, ["--calls", "4"])
    d, conf, store, keyf = R.make_env("bundle", "keep")
    p = R.capture(conf, pcap)
    if not tap.ok(p.returncode == 0, "capture exits 0"):
        tap.done()
    rc, calls, err = R.calls_json(conf)
    audio = [c for c in (calls or []) if c.get("audio")]
    if not tap.ok(audio, "a call with audio"):
        tap.done()
    c = audio[0]
    out = os.path.join(d, "bundle")
    os.makedirs(out)
    p = R.rv(["export", "-c", conf, c["call_id"], "--purpose", "court order", "--ticket", "CASE-7", "--format",
              "bundle", "-o", out])
    tap.ok(p.returncode == 0, "export --format bundle exits 0", p.stderr.decode()[-300:])
    files = sorted(os.listdir(out))
    rid = c["record_id"]
    tap.ok({"%d.wav" % rid, "%d.pcap" % rid, "manifest.json", "manifest.hmac"} <= set(files),
           "bundle holds the WAV, the pcap, manifest.json and manifest.hmac (%s)" % files)
    man = json.load(open(os.path.join(out, "manifest.json")))
    rec = man["records"][0]
    ret = man["retention"][0]
    tap.ok(man["purpose"] == "court order" and man["ticket"] == "CASE-7" and isinstance(man["audit_entry"], int)
           and man["audit_entry"] > 0, "manifest: purpose, ticket, audit entry id")
    tap.ok(ret.get("profile") and ret["record_id"] == rid and "deadline" in ret and
           rec["consent"]["state"] == c["consent"]["state"] and rec["record_id"] == rid,
           "manifest: profile, retention, consent evidence of the call")
    good = all(hashlib.sha256(open(os.path.join(out, f["file"]), "rb").read()).hexdigest() == f["sha256"]
               for f in man["files"])
    tap.ok(good and len(man["files"]) == 2, "manifest sha256 of each file matches")
    rc, txt = vb(out, "-c", conf)
    tap.ok(rc == 0 and "VERIFIED" in txt, "verify-bundle -c CONF: verifies", txt[-400:])
    rc, txt = vb(out, "--key", keyf)
    tap.ok(rc == 0, "verify-bundle --key KEYFILE: verifies offline", txt[-400:])

    def tampered(name, how):
        t = os.path.join(d, "t-%s-%s" % (how, name.replace(".", "_")))
        shutil.copytree(out, t)
        fp = os.path.join(t, name)
        if how == "remove":
            os.unlink(fp)
        else:
            b = bytearray(open(fp, "rb").read())
            b[len(b) // 2] ^= 1
            open(fp, "wb").write(bytes(b))
        return t

    for name in ("%d.wav" % rid, "%d.pcap" % rid):
        rc, txt = vb(tampered(name, "flip"), "-c", conf)
        tap.ok(rc != 0 and name in txt and "NOT VERIFIED" in txt, "changed byte in %s: refused, named" % name,
               txt[-300:])
    rc, txt = vb(tampered("%d.wav" % rid, "remove"), "-c", conf)
    tap.ok(rc != 0 and "MISSING" in txt, "removed WAV: refused", txt[-300:])
    rc, txt = vb(tampered("manifest.json", "flip"), "-c", conf)
    tap.ok(rc != 0 and "manifest.json" in txt, "changed byte in manifest.json: HMAC refused", txt[-300:])
    d2, conf2, _, key2 = R.make_env("bundle2", "keep")
    rc, txt = vb(out, "--key", key2)
    tap.ok(rc != 0, "another key: refused", txt[-300:])
    tap.done()


if __name__ == "__main__":
    main()
