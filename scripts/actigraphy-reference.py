#!/usr/bin/env python3
"""Reference values for Canary's actigraphy features, computed by pyActigraphy 1.2.2.

    bash ../shared/tools/pyactigraphy-venv.sh /tmp/pyact     # once: a venv where pyActigraphy imports
    /tmp/pyact/bin/python scripts/actigraphy-reference.py OUT_DIR [RECORDING.csv ...]

For each Depresjon-layout recording (`timestamp,date,activity`, one row per minute; default: the four in
../shared/data/depresjon) writes OUT_DIR/NAME.counts (the minute counts, one per line, `-` for a missing
minute, after a `# start ...` line: what the Swift test reads) and OUT_DIR/NAME.reference.json with
  - IS, IV (freq 1H), RA, L5, M10 and the L5/M10 start times, binarized at counts > 4 (pyActigraphy's
    defaults), over the whole recording (its whole hours: a last partial hour is left out) and over each complete 7-day window starting at a midnight;
  - Cole-Kripke sleep/wake labels (settings "mean", threshold 1, Webster rescoring) for every minute,
    as run lengths alternating wake, sleep, wake, ... (the first run may be 0). pyActigraphy sums a
    missing minute as a count of 0 here (Canary reads it as missing: wake, and non-wear for the night), so
    the test compares the minutes more than an hour away from a missing one.
The Swift test `ActigraphyReferenceTests` compares CanaryCore's features with these files; they are
committed, so the test runs without Python. Re-run this script to regenerate them.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
from pyActigraphy.io import BaseRaw

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def recording(path):
    frame = pd.read_csv(path, parse_dates=["timestamp"], index_col="timestamp")
    # Missing minutes (control_1 skips 02:00-02:59 at the 2003 spring DST change) become NaN.
    return recording_from(frame["activity"].asfreq("60s"))


def recording_from(s):
    """A pyActigraphy recording of minute series `s`, its missing minutes masked: an hour with a missing
    minute has no hourly value (as Canary treats missing and non-wear minutes), not a sum of zero."""
    raw = BaseRaw(name="x", uuid="x", format="custom", axial_mode="mono-axial", start_time=s.index[0],
                  period=s.index[-1] - s.index[0], frequency=pd.Timedelta("60s"), data=s, light=None)
    raw.mask = s.notna().astype(int)
    raw.mask_inactivity = True
    return s, raw


def rhythm(raw):
    from pyActigraphy.metrics.metrics import _lmx
    data = raw.binarized_data(4)
    l5_start, l5 = _lmx(data, "5H", lowest=True)
    m10_start, m10 = _lmx(data, "10H", lowest=False)
    def number(v):  # NaN (no variance: a device stuck on one level) is written as null
        return None if np.isnan(v) else float(v)
    return {
        "IS": number(raw.IS()), "IV": number(raw.IV()), "RA": number(raw.RA()),
        "L5": number(l5), "M10": number(m10),
        "L5_start_min": int(l5_start.total_seconds() // 60), "M10_start_min": int(m10_start.total_seconds() // 60),
    }


def runs(labels):
    out, current, n = [], 0, 0
    for v in labels:
        if v == current:
            n += 1
        else:
            out.append(n)
            current, n = v, 1
    out.append(n)
    return out


def main():
    out = sys.argv[1]
    paths = sys.argv[2:] or [os.path.join(root, "..", "shared", "data", "depresjon", f"{n}.csv")
                             for n in ("condition_1", "condition_2", "control_1", "control_2")]
    os.makedirs(out, exist_ok=True)
    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        s, raw = recording(path)
        with open(os.path.join(out, f"{name}.counts"), "w") as f:
            f.write(f"# start {s.index[0].isoformat()} (Depresjon {name}; see README.md)\n")
            f.write("\n".join("-" if np.isnan(v) else str(int(v)) for v in s.values) + "\n")
        result = {"name": name, "start": s.index[0].isoformat(), "minutes": len(s), "whole": rhythm(recording_from(s[:len(s) - len(s) % 60])[1]), "windows": []}
        first = s.index[0].normalize() + pd.Timedelta("1D") if s.index[0] != s.index[0].normalize() else s.index[0]
        t = first
        while t + pd.Timedelta("7D") <= s.index[-1] + pd.Timedelta("60s"):
            part = s[t:t + pd.Timedelta("7D") - pd.Timedelta("60s")]
            _, r = recording_from(part)
            w = rhythm(r)
            w["offset_min"] = int((t - s.index[0]).total_seconds() // 60)
            result["windows"].append(w)
            t += pd.Timedelta("1D")
        ck = raw.CK(settings="mean", threshold=1.0, rescoring=True)
        result["ck_runs"] = runs([int(v) for v in ck.values])
        with open(os.path.join(out, f"{name}.reference.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(name, len(s), "minutes,", len(result["windows"]), "windows,", result["whole"])



if __name__ == "__main__":
    main()
