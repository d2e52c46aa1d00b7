#!/usr/bin/env python3
"""How large the injected episodes are, in the units the rules judge: robust z.

Reads the scores `canaryctl replay --scores` wrote for an injected-episode benchmark, with that
benchmark's EPISODES.csv and series.csv, and prints per feature:
  n, mean, sd     the z of clean days (series without an episode, after the warm-up), clipped to +-6;
                  a well-calibrated score has mean 0 and sd 1
  p>3             the share of clean days with |z| > 3 (0.003 for a normal distribution)
  one column per episode label: the mean shift of z on that label's episode days, in clean-day sds

An effect of d clean-day sds on one feature needs a CUSUM of about h / (d - k) days to be seen
(k = 0.5, h = 6 by default): this is what bounds detection delay and false alerts on a benchmark,
whatever the rules.

    canaryctl replay --config config/canary.toml --scores /tmp/scores.csv /tmp/canary-episodes/activity.csv >/dev/null
    python3 bench/episode-effects.py /tmp/scores.csv /tmp/canary-episodes

Python 3 standard library only.
"""

import argparse
import collections
import csv
import datetime as dt
import math
import os
import statistics


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scores", help="the CSV written by canaryctl replay --scores")
    ap.add_argument("benchmark", help="the folder with EPISODES.csv and series.csv")
    ap.add_argument("--warmup-days", type=int, default=14)
    args = ap.parse_args()

    episodes = {}
    with open(os.path.join(args.benchmark, "EPISODES.csv")) as f:
        for r in csv.DictReader(f):
            episodes[r["subject"]] = (dt.date.fromisoformat(r["start"]), dt.date.fromisoformat(r["end"]), r["label"])
    with open(os.path.join(args.benchmark, "series.csv")) as f:
        first = {r["subject"]: dt.date.fromisoformat(r["first_date"]) for r in csv.DictReader(f)}

    clean, shifted = collections.defaultdict(list), collections.defaultdict(list)
    with open(args.scores) as f:
        for r in csv.DictReader(f):
            subject = r["subject"]
            day = dt.datetime.fromtimestamp(int(r["timestamp"]), dt.timezone.utc).date()
            z = float(r["z"])
            if subject not in first or (day - first[subject]).days < args.warmup_days or math.isnan(z):
                continue
            z = max(-6.0, min(6.0, z))
            if subject in episodes:
                start, end, label = episodes[subject]
                if start <= day <= end:
                    shifted[(r["metric"], label)].append(z)
            else:
                clean[r["metric"]].append(z)

    labels = sorted({label for _, _, label in episodes.values()})
    print("%-24s %6s %6s %5s %6s" % ("feature", "n", "mean", "sd", "p>3") + "".join(" %20s" % l for l in labels))
    for metric in sorted(clean):
        values = clean[metric]
        if len(values) < 2:
            continue
        mean, sd = statistics.fmean(values), statistics.pstdev(values)
        row = "%-24s %6d %6.2f %5.2f %6.3f" % (metric, len(values), mean, sd, sum(abs(z) > 3 for z in values) / len(values))
        for label in labels:
            on = shifted.get((metric, label))
            row += " %20s" % ("%.2f" % ((statistics.fmean(on) - mean) / sd) if on and sd > 0 else "-")
        print(row)


if __name__ == "__main__":
    main()
