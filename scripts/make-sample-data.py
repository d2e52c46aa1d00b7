#!/usr/bin/env python3
"""Write Canary's synthetic sample data set into config/sample/.

Five subjects over 35 local days starting Monday 2026-03-02: four stable people
(ana, ben, chen, dara) and eli, who has an injected depressive-like episode on
days 24-30 (2026-03-26 .. 2026-04-01 local). See config/sample/README.md.

Python 3 standard library only. Deterministic: the same seed gives byte-identical
files (every random stream is random.Random(seeded from the seed, subject and stream)).

    python3 scripts/make-sample-data.py [--seed 20260302] [--out config/sample]
"""

import argparse
import math
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SEED = 20260302
START = date(2026, 3, 2)          # day 0, a Monday
DAYS = 35                         # days 0..34 (2026-03-02 .. 2026-04-05)
EPISODE = range(24, 31)           # eli, days 24..30 inclusive (2026-03-26 .. 2026-04-01)
EPISODE_SUBJECT = "eli"
NONWEAR = ("dara", 20, 10 * 60, 16 * 60)   # subject, day, local start minute, local end minute (6 h)

WINDOW_START = 6 * 60             # activity rows exist for local 06:00 .. 22:59 (1020 minutes a day)
WINDOW_END = 23 * 60
TYPING_START = 9 * 60             # regular typing sessions start in local 09:00 .. 21:55
TYPING_END = 22 * 60 - 5

UTC = timezone.utc

# Person-specific normal. onset: usual bedtime (local minutes after midnight, on the evening
# before the wake date); dur_h: usual time in bed (hours); steps: usual daily steps;
# hold/flight: typing hold mean and flight median (ms); hr: resting heart rate (bpm);
# eff: sleep efficiency.
SUBJECTS = {
    "ana":  dict(zone="Europe/Oslo",      onset=22 * 60 + 45, dur_h=7.6, steps=8600,
                 hold=92.0,  flight=170.0, hr=60.0, eff=0.91),
    "ben":  dict(zone="Europe/Oslo",      onset=23 * 60 + 20, dur_h=7.0, steps=7200,
                 hold=100.0, flight=195.0, hr=65.0, eff=0.89),
    "chen": dict(zone="America/New_York", onset=23 * 60 + 5,  dur_h=7.3, steps=9300,
                 hold=96.0,  flight=185.0, hr=62.0, eff=0.90),
    "dara": dict(zone="Asia/Tokyo",       onset=22 * 60 + 35, dur_h=7.7, steps=7700,
                 hold=90.0,  flight=165.0, hr=59.0, eff=0.92),
    "eli":  dict(zone="Europe/Oslo",      onset=23 * 60,      dur_h=7.2, steps=8000,
                 hold=97.0,  flight=180.0, hr=63.0, eff=0.90),
}

KEYS = ("char", "space", "backspace", "enter", "other")
KEY_MIX = (0.80, 0.13, 0.05, 0.015, 0.005)
KEY_MIX_EPISODE = (0.75, 0.13, 0.10, 0.015, 0.005)   # backspace rate doubled


# ---------------------------------------------------------------------------- helpers

def rng_for(seed, subject, stream):
    # String seeds are hashed with SHA-512 by random.Random: stable across runs and platforms.
    return random.Random(f"canary-sample/{seed}/{subject}/{stream}")


def rng_gauss(rng, sd, k=2.0):
    """Zero-mean normal draw truncated to +/- k*sd."""
    while True:
        x = rng.gauss(0.0, 1.0)
        if -k <= x <= k:
            return sd * x


class Jitter:
    """Day-to-day jitter for one quantity of one person: uniform in mu +/- half, stratified per week.

    Each block of 7 draws takes one value from each seventh of the range, in shuffled order. Every
    draw is still uniform, but a week can't pile up on one side, so a stable person shows neither
    freak days (a jittered quantity stays within |robust z| ~1.5 under Canary's median/MAD
    baselines) nor the streaks a CUSUM would add up: only the injected episode should alert."""

    def __init__(self, rng):
        self.rng = rng
        self.pool = []

    def __call__(self, mu, half):
        if not self.pool:
            self.pool = [(k + self.rng.random()) / 7 * 2 - 1 for k in range(7)]
            self.rng.shuffle(self.pool)
        return mu + half * self.pool.pop()


def jitter(rng, mu, half):
    """Plain uniform jitter mu +/- half (for draws outside the stable routine)."""
    return mu + rng.uniform(-half, half)


SQRT3 = math.sqrt(3.0)   # a uniform +/- (sd * sqrt 3) has standard deviation sd


def day_date(d):
    return START + timedelta(days=d)


def local_instant(tz, d, minute):
    """The real instant for local wall time `minute` minutes after midnight of day d.

    Goes through UTC so a wall time inside a DST gap (e.g. 02:30 on 2026-03-29 in Oslo)
    lands on a real instant (it is written as 03:30+02:00)."""
    naive = datetime.combine(day_date(d), datetime.min.time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def local_midnight(tz, d):
    return local_instant(tz, d, 0)


def rfc3339(instant, tz, ms=False):
    return instant.astimezone(tz).isoformat(timespec="milliseconds" if ms else "seconds")


def minutes_between(a, b):
    return (b - a).total_seconds() / 60.0


def in_episode(subject, d):
    return subject == EPISODE_SUBJECT and d in EPISODE


# ---------------------------------------------------------------------------- sleep

def make_sleep(seed, subject, p, tz):
    """Main sleeps for wake days 0..DAYS (the last one is not written; it only bounds day 34's
    evening) and naps for days 0..DAYS-1. A main sleep belongs to the day it ends on."""
    rng = rng_for(seed, subject, "sleep")
    onset_j, dur_j, eff_j = Jitter(rng), Jitter(rng), Jitter(rng)
    mains, naps = {}, {}
    for d in range(DAYS + 1):
        onset_min = onset_j(p["onset"], 20)                                    # usual bedtime +/- 20 min
        dur = round(dur_j(p["dur_h"] * 60, 0.35 * 60 * SQRT3))                 # sd 0.35 h
        eff = eff_j(p["eff"], 0.025)
        if in_episode(subject, d):
            onset = local_instant(tz, d, 2 * 60 + rng.uniform(-20, 20))      # ~02:00 the same date
            dur = round(jitter(rng, 4.5 * 60, 15))                             # ~4.5 h -> wake ~06:30
        else:
            onset = local_instant(tz, d - 1, onset_min)
        onset = onset.replace(second=0, microsecond=0)
        end = onset + timedelta(minutes=dur)                                    # elapsed time, DST-proof
        mains[d] = (onset, end, eff)
        if d < DAYS and rng.random() < 0.10:
            start = local_instant(tz, d, rng.randint(13 * 60 + 30, 16 * 60))
            length = rng.randint(20, 40)
            naps[d] = (start, start + timedelta(minutes=length), jitter(rng, 0.85, 0.05))
    return mains, naps


def sleep_row(subject, tz, start, end, eff):
    in_bed = round(minutes_between(start, end))
    asleep10 = round(in_bed * 10 * eff)          # tenths of a minute, integer arithmetic
    awake10 = in_bed * 10 - asleep10
    return (subject, start,
            f"{subject},{rfc3339(start, tz)},{rfc3339(end, tz)},"
            f"{asleep10 // 10}.{asleep10 % 10},{awake10 // 10}.{awake10 % 10},"
            f"{asleep10 / (in_bed * 10):.3f}")


# ---------------------------------------------------------------------------- activity

SEDENTARY_MEAN = 1.35     # mean of sedentary_steps()


def sedentary_steps(rng):
    # 0-5 steps a minute while awake but not walking (mean ~1.35). A zero is only 1 in 4, so
    # sitting still never looks like an off-wrist device (Canary: >= 90 zero minutes).
    r = rng.random()
    if r < 0.25:
        return 0
    if r < 0.65:
        return 1
    if r < 0.85:
        return 2
    if r < 0.93:
        return 3
    if r < 0.97:
        return 4
    return 5


def zero_runs(steps, min_len, tolerance=2):
    """Runs of zeros (short non-zero interruptions allowed), as Canary's non-wear detector sees them."""
    runs, n, i = [], len(steps), 0
    while i < n:
        if steps[i] != 0:
            i += 1
            continue
        j, last, interruption = i, i, 0
        while j < n:
            if steps[j] == 0:
                last, interruption = j, 0
            else:
                interruption += 1
                if interruption > tolerance:
                    break
            j += 1
        if last - i + 1 >= min_len:
            runs.append((i, last))
        i = last + 1
    return runs


def make_activity_day(rng, steps_j, subject, p, tz, d, mains, naps):
    """Returns [(instant, steps)] for every minute of local 06:00..22:59 on day d."""
    first = local_instant(tz, d, WINDOW_START)
    last = local_instant(tz, d, WINDOW_END)
    n = int(minutes_between(first, last))
    instants = [first + timedelta(minutes=i) for i in range(n)]
    wake = mains[d][1]
    bed = mains[d + 1][0]
    nap = naps.get(d)
    nonwear = None
    if NONWEAR[0] == subject and NONWEAR[1] == d:
        nonwear = (local_instant(tz, d, NONWEAR[2]), local_instant(tz, d, NONWEAR[3]))

    def awake(t):
        if t < wake or t >= bed:
            return False
        if nap and nap[0] <= t < nap[1]:
            return False
        return True

    steps = [0] * n
    # Awake minutes the device sees. During the non-wear stretch the person is up but the
    # device is off-wrist: those minutes stay 0 and no walking is placed there, so the day's
    # recorded total stays normal and only the 6 h zero run tells non-wear apart.
    slots = [i for i, t in enumerate(instants)
             if awake(t) and not (nonwear and nonwear[0] <= t < nonwear[1])]
    for i in slots:
        steps[i] = sedentary_steps(rng)

    normal = steps_j(p["steps"], 1500.0)       # usual level +/- 1500, every day
    episode = in_episode(subject, d)
    target = p["steps"] * jitter(rng, 0.30, 0.03) if episode else normal
    # Walking bursts, planned until they (plus the sedentary trickle) reach the day's target.
    # The first and last are brisk (100-120 steps/min, Canary's "active" minutes): a walk
    # 0-10 min after waking and one 20-90 min before bed, 10-20 min each (5-8 min on
    # episode days). The rest are ordinary walks (60-100 steps/min, 5-30 min).
    need = target - SEDENTARY_MEAN * len(slots)
    brisk_len = (5, 8) if episode else (10, 20)
    bursts = []                                   # (length, cadence)
    for _ in range(2):
        length = rng.randint(*brisk_len)
        bursts.append((length, rng.uniform(100, 120)))
        need -= length * bursts[-1][1]
    middle = []
    while need > 0:
        cadence = rng.uniform(60, 100)
        length = max(5, min(rng.randint(5, 30), round(need / cadence)))
        middle.append((length, cadence))
        need -= length * cadence
    while middle and sum(b[0] for b in bursts + middle) > len(slots) - 30:
        middle.pop()                              # never more walking than waking minutes
    bursts = [bursts[0]] + middle + [bursts[1]]
    total = sum(b[0] for b in bursts)
    spare = len(slots) - total
    first_gap = min(spare, rng.randint(0, 10))
    last_gap = min(spare - first_gap, rng.randint(20, 90))
    weights = [rng.expovariate(1.0) for _ in range(len(bursts) - 1)]
    wsum = sum(weights)
    gaps = [first_gap] + [int((spare - first_gap - last_gap) * w / wsum) for w in weights]
    pos = 0
    for b, (length, cadence) in enumerate(bursts):
        pos += gaps[b]
        lo, hi = (100, 120) if cadence >= 100 else (60, 100)
        for k in range(length):
            steps[slots[pos + k]] = min(hi, max(lo, round(cadence + rng.gauss(0, 4))))
        pos += length

    # Only the planned off-wrist stretch may look like non-wear. A long zero run anywhere else
    # can only be sleep in the window (e.g. the later clock wake-up on a spring-forward
    # morning): give it a brief get-up (3 minutes of 5-20 steps), as a real night has.
    while True:
        runs = [(i, j) for i, j in zero_runs(steps, 75)
                if not (nonwear and instants[i] < nonwear[1] and instants[j] >= nonwear[0])]
        if not runs:
            break
        i, j = runs[0]
        m = (i + j) // 2
        for k in range(m, m + 3):
            steps[k] = rng.randint(5, 20)
    return list(zip(instants, steps))


# ---------------------------------------------------------------------------- typing

def deal_keys(rng, n, mix):
    """Key classes for an n-key session: counts close to n * share (stochastic rounding), shuffled.
    Dealt rather than drawn one by one, so the daily backspace rate wobbles less than pure
    binomial noise would and a stable person's rate stays inside Canary's 0.01 floor."""
    keys = []
    for key, share in zip(KEYS[1:], mix[1:]):
        x = n * share
        count = int(x) + (1 if rng.random() < x - int(x) else 0)
        keys += [key] * count
    keys += [KEYS[0]] * (n - len(keys))
    rng.shuffle(keys)
    return keys


def make_typing_day(rng, subject, p, tz, d, naps, day_factor, day_hold, day_backspace):
    episode = in_episode(subject, d)
    flight_median = p["flight"] * day_factor * (1.45 if episode else 1.0)
    base = KEY_MIX_EPISODE if episode else KEY_MIX
    backspace = base[2] * day_backspace
    mix = (1.0 - sum(base[1:]) - (backspace - base[2]), base[1], backspace, base[3], base[4])
    nap = naps.get(d)

    starts = []
    n_sessions = rng.randint(3, 6)
    while len(starts) < n_sessions:
        s = local_instant(tz, d, rng.randint(TYPING_START, TYPING_END)) + timedelta(
            milliseconds=rng.randint(0, 59_999))
        if any(abs((s - o).total_seconds()) < 600 for o in starts):
            continue            # sessions at least 10 min apart
        if nap and nap[0] - timedelta(minutes=5) <= s <= nap[1]:
            continue            # nobody types while napping
        starts.append(s)
    if episode:
        # Late-night session around 01:00 local, before the ~02:00 sleep onset.
        starts.append(local_instant(tz, d, 60 + rng.uniform(-15, 15)).replace(microsecond=0)
                      + timedelta(milliseconds=rng.randint(0, 999)))

    rows = []
    mu_log = math.log(flight_median)
    for s in sorted(starts):
        t = s
        prev_hold = 0
        for i, key in enumerate(deal_keys(rng, rng.randint(100, 250), mix)):
            hold = max(30, round(rng.gauss(day_hold, 15)))
            flight = max(20, round(rng.lognormvariate(mu_log, 0.35)))
            if i > 0:
                t = t + timedelta(milliseconds=prev_hold + flight)   # press = previous press + hold + flight
            rows.append((t, hold, flight, key))
            prev_hold = hold
    return rows


# ---------------------------------------------------------------------------- main

def generate(seed, out):
    sleep_rows, activity_rows, typing_rows, sample_rows = [], [], [], []
    stats = {}
    for subject in sorted(SUBJECTS):
        p = SUBJECTS[subject]
        tz = ZoneInfo(p["zone"])
        mains, naps = make_sleep(seed, subject, p, tz)

        # sleep.csv: main sleeps for wake days 0..34, plus naps
        for d in range(DAYS):
            sleep_rows.append(sleep_row(subject, tz, *mains[d]))
            if d in naps:
                sleep_rows.append(sleep_row(subject, tz, *naps[d]))

        # activity.csv
        arng = rng_for(seed, subject, "activity")
        steps_j = Jitter(arng)
        daily_steps = []
        for d in range(DAYS):
            day = make_activity_day(arng, steps_j, subject, p, tz, d, mains, naps)
            daily_steps.append(sum(s for _, s in day))
            for t, s in day:
                activity_rows.append((subject, t, f"{rfc3339(t, tz)},{subject},{s}"))

        # typing.csv
        trng = rng_for(seed, subject, "typing")
        factor_j, hold_j, backspace_j = Jitter(trng), Jitter(trng), Jitter(trng)
        for d in range(DAYS):
            factor = factor_j(1.0, 0.04)              # day-to-day flight tempo, +/- 4 %
            hold = hold_j(p["hold"], 3.0)
            backspace = backspace_j(1.0, 0.15)        # day-to-day backspace share, +/- 15 %
            for t, h, f, key in make_typing_day(trng, subject, p, tz, d, naps, factor, hold, backspace):
                typing_rows.append((subject, t, f"{rfc3339(t, tz, ms=True)},{subject},{h},{f},{key}"))

        # samples.csv: hourly resting_hr for every local hour of every day (23 on spring-forward days)
        hrng = rng_for(seed, subject, "samples")
        hr_j = Jitter(hrng)
        for d in range(DAYS):
            offset = hr_j(0.0, 1.5) + (8.0 if in_episode(subject, d) else 0.0)
            t, stop = local_midnight(tz, d), local_midnight(tz, d + 1)
            while t < stop:
                hour = t.astimezone(tz).hour
                v = p["hr"] + offset + 2.5 * math.cos(2 * math.pi * (hour - 16) / 24) + rng_gauss(hrng, 1.5)
                sample_rows.append((subject, t, f"{rfc3339(t, tz)},{subject},resting_hr,{v:.1f}"))
                t += timedelta(hours=1)

        normal = [d for d in range(DAYS) if not in_episode(subject, d)]
        stats[subject] = dict(
            dur=[minutes_between(mains[d][0], mains[d][1]) for d in normal],
            onset=[(mains[d][0].astimezone(tz).hour * 60 + mains[d][0].astimezone(tz).minute) for d in normal],
            wake=[(mains[d][1].astimezone(tz).hour * 60 + mains[d][1].astimezone(tz).minute) for d in normal],
            ep_onset=[(mains[d][0].astimezone(tz).hour * 60 + mains[d][0].astimezone(tz).minute)
                      for d in range(DAYS) if in_episode(subject, d)],
            steps=[daily_steps[d] for d in normal if not (subject == NONWEAR[0] and d == NONWEAR[1])],
            ep_dur=[minutes_between(mains[d][0], mains[d][1]) for d in range(DAYS) if in_episode(subject, d)],
            ep_steps=[daily_steps[d] for d in range(DAYS) if in_episode(subject, d)],
        )

    os.makedirs(out, exist_ok=True)
    files = [
        ("sleep.csv", "subject,start,end,asleep_min,awake_min,efficiency", sleep_rows),
        ("activity.csv", "timestamp,subject,steps", activity_rows),
        ("typing.csv", "timestamp,subject,hold_ms,flight_ms,key", typing_rows),
        ("samples.csv", "timestamp,subject,metric,value", sample_rows),
    ]
    counts = []
    for name, header, rows in files:
        rows.sort(key=lambda r: (r[0], r[1]))          # subject, then instant
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(header + "\n")
            fh.write("\n".join(r[2] for r in rows))
            fh.write("\n")
        counts.append(f"{name} {len(rows)}")
    return counts, stats


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    ap.add_argument("--out", default=os.path.join(here, "..", "config", "sample"),
                    help="output folder (default config/sample next to this script)")
    ap.add_argument("--stats", action="store_true", help="also print each subject's typical values")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    counts, stats = generate(args.seed, os.path.normpath(args.out))
    print(f"make-sample-data: wrote {os.path.normpath(args.out)}: " + ", ".join(counts)
          + f" rows (seed {args.seed}, {time.monotonic() - t0:.1f} s)")
    if args.stats:
        def mean(xs):
            return sum(xs) / len(xs) if xs else float("nan")

        def hhmm(m):
            m = round(m) % 1440
            return f"{m // 60:02d}:{m % 60:02d}"
        for s, st in stats.items():
            onsets = [o - 1440 if o >= 720 else o for o in st["onset"]]   # unwrap around midnight
            line = (f"  {s:5s} normal: in bed {mean(st['dur']) / 60:.2f} h, onset {hhmm(mean(onsets))}, "
                    f"wake {hhmm(mean(st['wake']))}, steps {mean(st['steps']):.0f}/day")
            if st["ep_dur"]:
                line += (f"; episode: in bed {mean(st['ep_dur']) / 60:.2f} h, onset {hhmm(mean(st['ep_onset']))}, "
                         f"steps {mean(st['ep_steps']):.0f}/day")
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
