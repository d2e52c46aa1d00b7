#!/usr/bin/env python3
"""Build Canary's injected-episode benchmark from real actigraphy (issue 11).

Resamples whole noon-to-noon days of the four Depresjon recordings into many 8-week series and
injects one depressive-like, manic-like or rhythm-shift episode into half of them; the other half
stay clean (controls for false alerts). See bench/README.md for the design, the exact factors and
the rest-period heuristic.

    python3 bench/make-episodes.py --out DIR [--per-recording 24] [--days 56] [--seed 1]
                                   [--data DIR]
    python3 bench/make-episodes.py --self-test [--data DIR]

--data defaults to ../shared/data/depresjon relative to the repository root (the folder above
bench/). Writes into DIR (created if missing, files overwritten):

    activity.csv   timestamp,subject,activity   one row per minute, local time without offset
                                                (2026-01-05T12:00:00 ...), sorted by subject, then time
    EPISODES.csv   subject,start,end,label      the local calendar dates an episode touches, inclusive
    series.csv     subject,recording,episode,first_date,last_date
    days.csv       subject,day,date,source_block,episode
                   (provenance: which real block of the series' recording each day is)
    blocks.csv     recording,block,sum,nonwear_min,flat_min,rest_start,rest_end
                   (each complete block of each recording: its total count, minutes in non-wear runs,
                   minutes in flat non-zero runs (>= 60 minutes within a range of 2), the rest found)

The same arguments and input files give byte-identical output (the SHA-256 of each file is printed
at the end). Every series draws from its own random streams, random.Random seeded from
(seed, subject, stream), so a series does not depend on how many others are built.
Python 3 standard library only.
"""

import os
import sys
import time
from datetime import date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from episodes_common import (EPISODE_FIRST_DAY, EPISODE_LENGTH, SelfTest, Series,  # noqa: E402
                             built_twice, checked_build_args, close_outputs, draw_episode,
                             open_outputs, parser, print_outputs, read_listings, read_rows,
                             repo_root, scale, series_rng, subject_name)

# ---------------------------------------------------------------------------- constants

RECORDINGS = (                       # (file stem, subject prefix), in output order
    ("condition_1", "cond1"),
    ("condition_2", "cond2"),
    ("control_1", "ctrl1"),
    ("control_2", "ctrl2"),
)
START = datetime(2026, 1, 5, 12, 0)  # day 1 of every series: Monday 2026-01-05, 12:00 local
BLOCK = 1440                         # a day is one noon-to-noon block of 1440 minutes

# Episodes start on day EPISODE_FIRST_DAY (29..42) and last EPISODE_LENGTH (7..10) days.
MIN_DAYS = EPISODE_FIRST_DAY[1] + EPISODE_LENGTH[1]   # 52: the latest episode's last block is
                                                      # day 51; a rhythm shift spills into day 52

NONWEAR_RUN = 90                     # a run of >= 90 consecutive zero minutes is non-wear: never changed
FLAT_RUN, FLAT_RANGE = 60, 2         # blocks.csv: minutes in runs of >= 60 non-zero counts within a range of 2

# Main rest period heuristic (see rest_period()).
REST_WINDOW = 30                     # centred rolling mean over 30 minutes
REST_FRACTION = 0.15                 # threshold: 15 % of the block's 75th-percentile minute count
REST_GAP = 30                        # low runs separated by <= 30 minutes above threshold are merged
REST_MIN = 120                       # a main rest period is at least 120 minutes long

# Episode types and tiers. Spread over the episode series in this order (type varies fastest).
COMBOS = (
    ("depressive", "standard"),
    ("manic", "standard"),
    ("rhythm", "standard"),
    ("depressive", "mild"),
    ("manic", "mild"),
    ("rhythm", "mild"),
)
DEPRESSIVE = {"standard": (0.6, 90), "mild": (0.8, 45)}     # (factor outside rest, rest extended by min)
MANIC = {"standard": (1.5, 120), "mild": (1.25, 60)}        # (factor outside rest, rest shortened by min)
RHYTHM = {"standard": 180, "mild": 90}                      # whole day delayed by minutes
EVENING = 180                        # manic fill: counts drawn from the 3 h before the rest onset
EVENING_MIN_SAMPLES = 30             # ... if fewer worn minutes there, from the whole waking block


def default_data_dir():
    return os.path.normpath(os.path.join(repo_root(), "..", "shared", "data", "depresjon"))


def rng_for(seed, subject, stream):
    return series_rng("canary-bench-episodes", seed, subject, stream)


def clock(minute_in_block):
    m = (12 * 60 + minute_in_block) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


# ---------------------------------------------------------------------------- the recordings

class Block:
    """One complete noon-to-noon day of a recording."""
    __slots__ = ("start", "counts", "protected", "rest", "flat")

    def __init__(self, start, counts, protected):
        self.start = start            # date of the noon the block starts at
        self.counts = counts          # 1440 ints
        self.protected = protected    # 1440 bools: part of a >= 90-minute zero run (non-wear)
        self.rest = rest_period(counts)
        # Informational only (not used to build anything): minutes in runs of >= 60 non-zero
        # counts that stay within a range of 2 (max - min <= 2), which a worn actigraph does not
        # produce (a stuck counter, or an idle device reporting a floor instead of zeros).
        self.flat = 0
        i = 0
        while i < BLOCK:
            lo = hi = counts[i]
            j = i
            while j < BLOCK and counts[j] != 0 and max(hi, counts[j]) - min(lo, counts[j]) <= FLAT_RANGE:
                lo, hi = min(lo, counts[j]), max(hi, counts[j])
                j += 1
            if j - i >= FLAT_RUN:
                self.flat += j - i
                i = j
            else:
                i += 1


class Recording:
    def __init__(self, stem, prefix, path):
        self.stem, self.prefix, self.path = stem, prefix, path
        self.blocks, self.skipped, self.rows, self.sha256 = [], [], 0, ""
        self.first = self.last = None
        self.duplicates = 0
        self.nonwear_minutes = 0
        self._load()

    def _load(self):
        self.sha256, rows = read_rows(self.path, "timestamp,date,activity")
        times, counts = [], []
        for n, parts in rows:
            try:
                t = datetime.fromisoformat(parts[0])
                c = int(parts[2])
            except ValueError:
                raise SystemExit(f"{self.path}:{n}: bad timestamp or count")
            if c < 0 or t.second or t.microsecond:
                raise SystemExit(f"{self.path}:{n}: negative count or not on a minute")
            if times and t <= times[-1]:
                if t == times[-1]:
                    self.duplicates += 1
                else:
                    raise SystemExit(f"{self.path}:{n}: rows not in time order")
            times.append(t)
            counts.append(c)
        self.rows = len(times)
        self.first, self.last = times[0], times[-1]

        # Non-wear as the recording has it: runs of >= NONWEAR_RUN consecutive zero rows.
        protected = [False] * len(counts)
        i = 0
        while i < len(counts):
            if counts[i] != 0:
                i += 1
                continue
            j = i
            while j < len(counts) and counts[j] == 0:
                j += 1
            if j - i >= NONWEAR_RUN:
                for k in range(i, j):
                    protected[k] = True
            i = j
        self.nonwear_minutes = sum(protected)

        # Wall-clock noon-to-noon blocks; a block is complete when each of its 1440 local minutes
        # occurs exactly once (a DST change, a gap or a repeated time makes it incomplete).
        index, repeated = {}, set()
        for k, t in enumerate(times):
            if t in index:
                repeated.add(t)
            index[t] = k
        noon = self.first.replace(hour=12, minute=0)
        if noon < self.first:
            noon += timedelta(days=1)
        while noon + timedelta(minutes=BLOCK - 1) <= self.last:
            ks = [index.get(noon + timedelta(minutes=m)) for m in range(BLOCK)]
            present = sum(k is not None for k in ks)
            dup = any((noon + timedelta(minutes=m)) in repeated for m in range(BLOCK))
            if present == BLOCK and not dup:
                self.blocks.append(Block(noon.date(), [counts[k] for k in ks],
                                         [protected[k] for k in ks]))
            else:
                why = f"{present} of {BLOCK} minutes" + (", repeated times" if dup else "")
                self.skipped.append((noon.date(), why))
            noon += timedelta(days=1)
        if not self.blocks:
            raise SystemExit(f"{self.path}: no complete noon-to-noon block")


def load_recordings(data_dir):
    recs = []
    for stem, prefix in RECORDINGS:
        path = os.path.join(data_dir, stem + ".csv")
        if not os.path.isfile(path):
            raise SystemExit(f"{path}: not found (pass --data DIR, the folder of the Depresjon CSV files)")
        recs.append(Recording(stem, prefix, path))
    return recs


# ---------------------------------------------------------------------------- rest heuristic

def rest_period(v):
    """The block's main rest period as (onset, offset) minute indices (offset exclusive), or None.

    1. Rolling mean of the counts over a centred 30-minute window ([i-15, i+15), cut at the block's
       edges).
    2. Threshold: 15 % of the block's 75th-percentile minute count (the median of its more active
       half, i.e. a daytime level that does not assume a clock time for the day).
    3. Minutes whose rolling mean is below the threshold are low; runs of low minutes separated by
       at most 30 minutes are merged (short awakenings).
    4. The main rest period is the longest merged run (the earliest on a tie) if it lasts at least
       120 minutes. A block whose threshold is 0 (mostly zeros) has none.
    Zeros, non-wear included, count as low: a night with the watch off is found as the rest."""
    n = len(v)
    thr = REST_FRACTION * sorted(v)[(3 * n) // 4]
    if thr <= 0:
        return None
    pre = [0]
    for x in v:
        pre.append(pre[-1] + x)
    half = REST_WINDOW // 2
    runs, start = [], None
    for i in range(n + 1):
        low = False
        if i < n:
            a, b = max(0, i - half), min(n, i + half)
            low = (pre[b] - pre[a]) < thr * (b - a)
        if low and start is None:
            start = i
        elif not low and start is not None:
            if runs and start - runs[-1][1] <= REST_GAP:
                runs[-1][1] = i
            else:
                runs.append([start, i])
            start = None
    best = None
    for a, b in runs:
        if best is None or b - a > best[1] - best[0]:
            best = (a, b)
    if best is None or best[1] - best[0] < REST_MIN:
        return None
    return best


# ---------------------------------------------------------------------------- manipulations

def depressive_day(block, tier, rng):
    """Counts outside the main rest x factor; rest extended by making the wake-up later: the
    minutes after the rest offset get counts drawn (with replacement) from that night's own rest
    minutes. Non-wear minutes are left as they are. Returns (counts, rest found)."""
    factor, extend = DEPRESSIVE[tier]
    v, prot = block.counts, block.protected
    out = list(v)
    if block.rest is None:
        return [scale(c, factor) for c in v], False
    a, b = block.rest
    e = min(BLOCK, b + extend)
    night = v[a:b]
    for m in range(b, e):
        if not prot[m]:
            out[m] = rng.choice(night)
    for m in range(BLOCK):
        if not (a <= m < e):
            out[m] = scale(out[m], factor)
    return out, True


def manic_day(block, tier, rng):
    """Counts outside the main rest x factor; rest shortened by starting it later: its first
    minutes get counts drawn (with replacement) from the same block's evening (the worn minutes in
    the 3 h before the onset), and are then scaled like the rest of the waking day. The cut is at
    most half the rest. Non-wear minutes are left as they are. Returns (counts, rest found)."""
    factor, cut = MANIC[tier]
    v, prot = block.counts, block.protected
    out = list(v)
    if block.rest is None:
        return [scale(c, factor) for c in v], False
    a, b = block.rest
    cut = min(cut, (b - a) // 2)
    evening = [v[m] for m in range(max(0, a - EVENING), a) if not prot[m]]
    if len(evening) < EVENING_MIN_SAMPLES:
        evening = [v[m] for m in range(BLOCK) if not (a <= m < b) and not prot[m]]
    if evening:
        for m in range(a, a + cut):
            if not prot[m]:
                out[m] = rng.choice(evening)
    new_onset = a + cut
    for m in range(BLOCK):
        if not (new_onset <= m < b):
            out[m] = scale(out[m], factor)
    return out, True


# ---------------------------------------------------------------------------- series

def build_series(rec, r, i, per, days, seed):
    """Series i of recording r: days whole blocks drawn with replacement; odd i get an episode."""
    s = Series()
    s.subject = subject_name(rec.prefix, i, per)
    s.recording = rec.stem
    pick = rng_for(seed, s.subject, "blocks")
    s.picks = [pick.randrange(len(rec.blocks)) for _ in range(days)]
    counts = []
    for p in s.picks:
        counts.extend(rec.blocks[p].counts)
    s.label = "none"
    s.day_label = [""] * days
    s.episode = None
    s.rest_missing = 0
    if i % 2 == 1:
        kind, tier = COMBOS[(i // 2 + r) % len(COMBOS)]
        first, length = draw_episode(rng_for(seed, s.subject, "episode"))
        s.label = f"{kind}-{tier}"
        s.episode = (kind, tier, first, length)
        fill = rng_for(seed, s.subject, "fill")
        for d in range(first - 1, first - 1 + length):
            s.day_label[d] = s.label
        if kind == "rhythm":
            # The series' minutes from the episode's first noon on are delayed by the shift until
            # the shifted last block has been played out: the first `shift` minutes of the episode
            # repeat the previous block's last morning hours, and the last episode block's morning
            # spills into the first hours of the day after the episode (whose own first hours drop out).
            shift = RHYTHM[tier]
            e0, e1 = (first - 1) * BLOCK, (first - 1 + length) * BLOCK
            counts[e0:e1 + shift] = counts[e0 - shift:e1]
        else:
            make = depressive_day if kind == "depressive" else manic_day
            for d in range(first - 1, first - 1 + length):
                out, found = make(rec.blocks[s.picks[d]], tier, fill)
                counts[d * BLOCK:(d + 1) * BLOCK] = out
                s.rest_missing += not found
    s.counts = counts
    return s


def unworn(block):
    """Informational: at least half the block is non-wear zeros or flat non-zero runs."""
    return sum(block.protected) + block.flat >= BLOCK // 2


def episode_dates(first, length):
    """Local calendar dates an episode touches: the afternoon of its first block's date to the
    morning that ends its last block (a rhythm shift's spill ends at 15:00 that same date)."""
    d0 = START.date() + timedelta(days=first - 1)
    return d0, d0 + timedelta(days=length)


# ---------------------------------------------------------------------------- output

def build(out_dir, per, days, seed, data_dir, recs=None, quiet=False):
    """Write the benchmark into out_dir. Returns {file name: (sha256, bytes, data rows)} and stats."""
    t0 = time.monotonic()
    if recs is None:
        recs = load_recordings(data_dir)
    stamps = []
    t = START
    for _ in range(days * BLOCK):
        stamps.append(t.strftime("%Y-%m-%dT%H:%M:%S,"))
        t += timedelta(minutes=1)
    first_date, last_date = START.date(), (START + timedelta(minutes=days * BLOCK - 1)).date()

    files = open_outputs(out_dir, ("activity.csv", "EPISODES.csv", "series.csv", "days.csv", "blocks.csv"))
    files["activity.csv"].write("timestamp,subject,activity\n")
    files["EPISODES.csv"].write("subject,start,end,label\n")
    files["series.csv"].write("subject,recording,episode,first_date,last_date\n")
    files["days.csv"].write("subject,day,date,source_block,episode\n")
    files["blocks.csv"].write("recording,block,sum,nonwear_min,flat_min,rest_start,rest_end\n")
    for rec in recs:
        for b in rec.blocks:
            rs, re_ = (clock(b.rest[0]), clock(b.rest[1])) if b.rest else ("", "")
            files["blocks.csv"].write(f"{rec.stem},{b.start},{sum(b.counts)},{sum(b.protected)},"
                                      f"{b.flat},{rs},{re_}\n", rows=1)
    counts_by_label, rest_missing, scaled_days, episode_days, flagged_days = {}, 0, 0, 0, 0
    for r, rec in enumerate(recs):
        for i in range(per):
            s = build_series(rec, r, i, per, days, seed)
            subj = s.subject + ","
            files["activity.csv"].write(
                "".join([f"{p}{subj}{c}\n" for p, c in zip(stamps, s.counts)]), rows=len(s.counts))
            files["series.csv"].write(
                f"{s.subject},{s.recording},{s.label},{first_date},{last_date}\n", rows=1)
            lines = []
            for d, p in enumerate(s.picks):
                lines.append(f"{s.subject},{d + 1},{START.date() + timedelta(days=d)},"
                             f"{rec.blocks[p].start},{s.day_label[d] or 'none'}\n")
            files["days.csv"].write("".join(lines), rows=len(lines))
            counts_by_label[s.label] = counts_by_label.get(s.label, 0) + 1
            if s.episode:
                kind, tier, first, length = s.episode
                d0, d1 = episode_dates(first, length)
                files["EPISODES.csv"].write(f"{s.subject},{d0},{d1},{s.label}\n", rows=1)
                rest_missing += s.rest_missing
                episode_days += length
                if kind != "rhythm":
                    scaled_days += length
                flagged_days += sum(unworn(rec.blocks[s.picks[d]])
                                    for d in range(first - 1, first - 1 + length))
    result = close_outputs(files)
    stats = dict(recs=recs, counts_by_label=counts_by_label, rest_missing=rest_missing,
                 scaled_days=scaled_days, episode_days=episode_days, flagged_days=flagged_days,
                 seconds=time.monotonic() - t0)
    return result, stats


def print_summary(out_dir, per, days, seed, result, stats):
    recs = stats["recs"]
    print(f"benchmark: {len(recs) * per} series ({per} per recording), {days} days each, seed {seed},"
          f" day 1 = {START.date()} 12:00")
    for rec in recs:
        skipped = "; ".join(f"{d} ({why})" for d, why in rec.skipped) or "none"
        print(f"  {rec.stem}: {rec.rows} rows {rec.first} .. {rec.last}, {len(rec.blocks)} complete"
              f" blocks ({sum(b.rest is None for b in rec.blocks)} without a rest period found,"
              f" {sum(unworn(b) for b in rec.blocks)} mostly non-wear or flat), skipped: {skipped}")
    labels = stats["counts_by_label"]
    n_ep = sum(v for k, v in labels.items() if k != "none")
    print(f"episodes: {n_ep} of {len(recs) * per} series; clean: {labels.get('none', 0)}")
    for kind, tier in sorted(COMBOS):
        print(f"  {kind}-{tier}: {labels.get(f'{kind}-{tier}', 0)}")
    print(f"episode days: {stats['episode_days']} ({stats['flagged_days']} on blocks mostly non-wear or flat);"
          f" of the {stats['scaled_days']} depressive and manic days, {stats['rest_missing']} on blocks"
          f" without a rest period found (scaled only)")
    print_outputs(out_dir, result, stats["seconds"], [(rec.sha256, f"{rec.stem}.csv") for rec in recs])


# ---------------------------------------------------------------------------- self-test

def self_test(data_dir):
    per, days, seed = 2, 56, 1
    test = SelfTest()
    check = test.check
    recs = load_recordings(data_dir)
    blocks = {rec.stem: {b.start.isoformat(): b for b in rec.blocks} for rec in recs}

    def build_into(out):
        return build(out, per, days, seed, data_dir, recs=load_recordings(data_dir))[0]

    with built_twice(check, build_into) as one:
        series, episodes, dayrows = read_listings(one)
        n_ep = sum(s["episode"] != "none" for s in series)
        check(len(series) == 4 * per and n_ep * 2 == len(series),
              f"exactly half the series have an episode ({n_ep} of {len(series)})")
        last = (START + timedelta(minutes=days * BLOCK - 1)).date()
        check(all(x["first_date"] == str(START.date()) and x["last_date"] == str(last) for x in series),
              f"series.csv: every series covers {START.date()} .. {last}")
        check(len(episodes) == n_ep and {e["subject"] for e in episodes}
              == {s["subject"] for s in series if s["episode"] != "none"},
              "EPISODES.csv lists exactly the episode series")
        spans = []
        for e in episodes:
            first = (date.fromisoformat(e["start"]) - START.date()).days + 1
            length = (date.fromisoformat(e["end"]) - date.fromisoformat(e["start"])).days
            spans.append((first, length))
        check(all(29 <= f and f + n - 1 <= 42 + 9 and 7 <= n <= 10 for f, n in spans),
              "every episode starts on day 29..42, lasts 7..10 days, ends by day 51: "
              + ", ".join(f"day {f}+{n}" for f, n in spans))

        # Minute counts per subject.
        series_counts = {}
        with open(os.path.join(one, "activity.csv")) as f:
            header = f.readline().strip()
            good_rows = True
            prev = None
            for line in f:
                ts, subj, c = line.rstrip("\n").split(",")
                if prev is not None and (subj, ts) <= prev:
                    good_rows = False
                prev = (subj, ts)
                series_counts.setdefault(subj, []).append(int(c))
        check(header == "timestamp,subject,activity" and good_rows,
              "activity.csv has the header and is sorted by subject, then time")
        check(all(len(v) == days * BLOCK and min(v) >= 0 for v in series_counts.values())
              and len(series_counts) == len(series),
              f"every series has {days * BLOCK} minutes of integer counts >= 0")

        rec_of = {s["subject"]: s["recording"] for s in series}

        def out_block(subj, day):
            return series_counts[subj][(day - 1) * BLOCK:day * BLOCK]

        def src_block(row):
            return blocks[rec_of[row["subject"]]][row["source_block"]]

        unchanged, changed_clean = 0, 0
        for row in dayrows:
            if row["episode"] != "none":
                continue
            subj, day = row["subject"], int(row["day"])
            prev_label = next((x["episode"] for x in dayrows
                               if x["subject"] == subj and int(x["day"]) == day - 1), "none")
            if prev_label.startswith("rhythm"):
                continue   # the first hours carry the shifted episode's spill
            if out_block(subj, day) == src_block(row).counts:
                unchanged += 1
            else:
                changed_clean += 1
        check(changed_clean == 0, f"days outside episodes are their source blocks unchanged ({unchanged} days)")

        nonwear_ok = True
        for row in dayrows:
            if row["episode"] == "none" or row["episode"].startswith("rhythm"):
                continue
            b, o = src_block(row), out_block(row["subject"], int(row["day"]))
            if any(p and x != 0 for p, x in zip(b.protected, o)):
                nonwear_ok = False
        check(nonwear_ok, "non-wear runs (>= 90 zeros) stay zero on depressive and manic days")

        def daytime(v, b):
            # Daytime of the source block: the minutes outside its rest period (the whole block if none).
            a, e = b.rest if b.rest else (0, 0)
            return sum(x for m, x in enumerate(v) if not (a <= m < e))

        for label, lower in (("depressive-standard", True), ("manic-standard", False)):
            rows = [x for x in dayrows if x["episode"] == label]
            pairs = [(daytime(out_block(x["subject"], int(x["day"])), src_block(x)),
                      daytime(src_block(x).counts, src_block(x))) for x in rows]
            pairs = [p for p in pairs if p[1] > 0]
            good = bool(pairs) and all((o < s) if lower else (o > s) for o, s in pairs)
            ratio = sum(o for o, _ in pairs) / max(1, sum(s for _, s in pairs))
            check(good, f"{label}: each episode day's daytime sum is {'lower' if lower else 'higher'}"
                        f" than its source block's ({len(pairs)} days, overall ratio {ratio:.2f})")

        for tier in ("standard", "mild"):
            label = f"rhythm-{tier}"
            rows = [x for x in dayrows if x["episode"] == label]
            if not rows:
                continue
            shift = RHYTHM[tier]
            deltas = []
            for x in rows:
                b = src_block(x)
                o = rest_period(out_block(x["subject"], int(x["day"])))
                if b.rest and o:
                    deltas.append(o[0] - b.rest[0])
            deltas.sort()
            med = deltas[len(deltas) // 2] if deltas else None
            check(med is not None and abs(med - shift) <= 20,
                  f"{label}: rest onset later by about {shift} min (median {med} over {len(deltas)} days,"
                  f" range {deltas[0] if deltas else None}..{deltas[-1] if deltas else None})")
        check(any(x["episode"].startswith("rhythm") for x in dayrows), "a rhythm episode was built")
    return test.finish()


# ---------------------------------------------------------------------------- main

def main():
    ap = parser(__doc__, "--per-recording", 24, "recording", MIN_DAYS, "--data", default_data_dir(),
                "folder of the Depresjon CSV files (default ../shared/data/depresjon"
                " from the repository root)")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.data)
    per = checked_build_args(ap, args, "--per-recording", MIN_DAYS)
    result, stats = build(args.out, per, args.days, args.seed, args.data)
    print_summary(args.out, per, args.days, args.seed, result, stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
