#!/usr/bin/env python3
"""rvgen: deterministic pcap + ground-truth generator for rtpvault integration tests.

Usage: rvgen.py --scenario analyze|flood|perf|consent|compliance --seed N --out DIR [--truth-payloads]
                [--calls N] [--flood-count N] [--packets N] [--sip-stats]
Writes DIR/NAME.pcap and DIR/NAME.truth.json. Python 3 standard library only.
See scripts/gen/README.md.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rvlib import net, scenarios, consent, compliance  # noqa: E402

DEFAULT_SEED = {"analyze": 1, "flood": 2, "perf": 3, "consent": 11, "compliance": 21}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="analyze", choices=["analyze", "flood", "perf", "consent", "compliance"])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--truth-payloads", action="store_true",
                    help="add per-stream {seq: sha256(payload)} of audio packets to the truth")
    ap.add_argument("--calls", type=int, default=0, help="analyze/consent: keep only the first N call specs")
    ap.add_argument("--flood-count", type=int, default=1000000)
    ap.add_argument("--packets", type=int, default=1000000, help="perf: approximate packet count")
    ap.add_argument("--sip-stats", action="store_true",
                    help="analyze: also write NAME.sipstats.json (SIP messages per method/code, for selfcheck)")
    args = ap.parse_args(argv)
    if args.seed is None:
        args.seed = DEFAULT_SEED[args.scenario]
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, args.scenario)
    w = net.PcapWriter(base + ".pcap")
    run = {"consent": consent.run_consent, "compliance": compliance.run_compliance, "analyze": scenarios.run_analyze, "flood": scenarios.run_flood, "perf": scenarios.run_perf}
    truth, sipstats = run[args.scenario](args, w)
    w.close()
    with open(base + ".truth.json", "w") as f:
        json.dump(truth, f, indent=1, sort_keys=False)
        f.write("\n")
    if args.sip_stats and sipstats is not None:
        with open(base + ".sipstats.json", "w") as f:
            json.dump(dict(sorted(sipstats.items())), f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
