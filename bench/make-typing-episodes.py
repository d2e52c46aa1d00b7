#!/usr/bin/env python3
"""Build Canary's injected-episode benchmark for typing (issue 11).

Resamples whole local days of key events of config/sample/typing.csv into many 8-week series and
injects one episode (slowing, night typing, more corrections, or less typing, each in a standard
and a mild tier) into half of them; the other half stay clean (controls for false alerts). See
bench/README.md for the design and the exact factors.

    python3 bench/make-typing-episodes.py --out DIR [--per-subject 12] [--days 56] [--seed 1]
                                          [--source FILE]
    python3 bench/make-typing-episodes.py --self-test [--source FILE]

--source defaults to config/sample/typing.csv relative to the repository root (the folder above
bench/). The source subject eli (injected episode from 2026-03-26) is never used. Writes into DIR
(created if missing, files overwritten):

    typing.csv        timestamp,subject,hold_ms,flight_ms,key   one row per key press, local time
                      without offset, millisecond precision (2026-01-05T10:11:36.190),
                      sorted by subject, then time
    EPISODES.csv      subject,start,end,label        the local dates of the episode, inclusive
    series.csv        subject,source_subject,episode,first_date,last_date
    days.csv          subject,day,date,source_date,shift_ms,source_sessions,sessions,keystrokes,episode
                      (provenance of each day of each series)
    source-days.csv   subject,date,keystrokes,sessions,flight_median,flight_mad,hold_median,
                      backspace_rate,late_night_share   (each source day, Canary's definitions)

The same arguments and source file give byte-identical output (the SHA-256 of each file is printed
at the end). Every series draws from its own random streams, random.Random seeded from
(seed, subject, stream), so a series does not depend on how many others are built.
Python 3 standard library only.
"""

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from episodes_common import (EPISODE_FIRST_DAY, EPISODE_LENGTH, SelfTest, Series,  # noqa: E402
                             built_twice, checked_build_args, close_outputs, draw_episode,
                             open_outputs, parser, print_outputs, read_listings, read_rows,
                             repo_root, scale, series_rng, subject_name)

# ---------------------------------------------------------------------------- constants

EXCLUDED = ("eli",)                  # source subjects never used (eli has an injected episode)
KEYS = ("char", "space", "backspace", "enter", "other")   # the classes config/sample/typing.csv uses
HEADER = "timestamp,subject,hold_ms,flight_ms,key"
START = date(2026, 1, 5)             # day 1 of every series: Monday 2026-01-05

DAY_MS = 86_400_000
SESSION_GAP_MS = 300_000             # Canary: a pause of more than 5 min starts a new session
LATE_NIGHT_END_MS = 5 * 3_600_000    # Canary: keys from 00:00 to 05:00 local are late-night
MAX_FLIGHT_MS = 3000                 # Canary: flights above this are pauses, not rhythm
MIN_KEYSTROKES = 100                 # Canary: a day needs this many keys to have typing features
SEPARATION_MS = 600_000              # a moved or pushed session starts >= 10 min after the previous
                                     # one's last key (the source's own minimum spacing is 9.8 min)

SHIFT_MS = 30 * 60_000               # perturbation: whole day shifted by up to +/- 30 min
KEEP_FRACTION = (0.85, 1.0)          # perturbation: share of the source day's sessions kept

# Episodes start on day EPISODE_FIRST_DAY (29..42) and last EPISODE_LENGTH (7..10) days.
MIN_DAYS = EPISODE_FIRST_DAY[1] + EPISODE_LENGTH[1] - 1   # 51: the latest episode's last day

# Episode types and tiers, spread over the episode series in this order (tier varies fastest):
# episode series k of source subject r gets entry (k + 2 r) mod 8, so with 6 episode series per
# subject each entry goes to 3 series, on 3 different source subjects.
COMBOS = (
    ("slowing", "standard"),
    ("slowing", "mild"),
    ("night", "standard"),
    ("night", "mild"),
    ("corrections", "standard"),
    ("corrections", "mild"),
    ("less", "standard"),
    ("less", "mild"),
)
SLOWING = {"standard": (1.30, 1.10), "mild": (1.15, 1.05)}   # (flight factor, hold factor)
NIGHT = {"standard": 0.30, "mild": 0.15}     # share of the day's keystrokes (whole sessions) moved
NIGHT_WINDOW = (30 * 60_000, 4 * 3_600_000 + 30 * 60_000)   # moved sessions lie within 00:30-04:30
NIGHT_TRIES = 200                    # placement attempts per moved session before it stays put
CORRECTIONS = {"standard": 2.0, "mild": 1.5}  # backspace count multiplied (char keys converted)
LESS = {"standard": 0.40, "mild": 0.65}      # share of the source day's keystrokes kept (whole sessions)
SHARE_TOLERANCE = 0.05               # a set of sessions within 5 points of the target share qualifies
ENUMERATE_MAX = 12                   # days with more sessions choose sets from random orders instead


def default_source():
    return os.path.join(repo_root(), "config", "sample", "typing.csv")


def rng_for(seed, subject, stream):
    return series_rng("canary-bench-typing", seed, subject, stream)


def clock(ms):
    s, ms = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


# ---------------------------------------------------------------------------- the source

# A key event is a tuple (t, hold, flight, key): t is the press time in ms after local midnight of
# its day. A session is a list of events; a day is a list of sessions in time order.

def sessions_of(events):
    """Split a day's events (in time order) into sessions as Canary counts them."""
    out = []
    prev = None
    for e in events:
        if prev is None or e[0] - prev > SESSION_GAP_MS:
            out.append([])
        out[-1].append(e)
        prev = e[0]
    return out


def features(events):
    """Canary's daily typing features of a day's events in time order (TypingFeatures.swift)."""
    n = len(events)
    flights, holds = [], []
    sessions = backspaces = late = 0
    prev = None
    for t, hold, flight, key in events:
        new = prev is None or t - prev > SESSION_GAP_MS
        sessions += new
        if not new and flight <= MAX_FLIGHT_MS:
            flights.append(flight)
        holds.append(hold)
        backspaces += key == "backspace"
        late += t < LATE_NIGHT_END_MS
        prev = t
    f = dict(keystrokes=n, sessions=sessions, backspace_rate=backspaces / n if n else 0.0,
             late_night_share=late / n if n else 0.0,
             hold_median=statistics.median(holds) if holds else None,
             flight_median=None, flight_mad=None)
    if flights:
        m = statistics.median(flights)
        f["flight_median"] = m
        f["flight_mad"] = statistics.median(abs(x - m) for x in flights)
    return f


class SourceDay:
    __slots__ = ("subject", "date", "sessions", "keystrokes", "features")

    def __init__(self, subject, day, events):
        self.subject, self.date = subject, day
        self.sessions = sessions_of(events)
        self.keystrokes = len(events)
        self.features = features(events)


class Source:
    """The source file: every subject's key events, cut into local calendar days."""

    def __init__(self, path):
        self.path = path
        self.sha256, rows = read_rows(path, HEADER)
        self.rows = 0
        self.key_counts = {}
        by_subject = {}
        last_instant = {}
        for n, parts in rows:
            ts, subject, hold, flight, key = parts
            try:
                t = datetime.fromisoformat(ts)
                hold, flight = int(hold), int(flight)
            except ValueError:
                raise SystemExit(f"{path}:{n}: bad timestamp, hold_ms or flight_ms")
            if t.tzinfo is None:
                raise SystemExit(f"{path}:{n}: timestamp without an offset (the day is the local "
                                 "date given by the timestamp's own offset)")
            if key not in KEYS:
                raise SystemExit(f"{path}:{n}: key class '{key}' not one of {', '.join(KEYS)}")
            if hold < 0 or flight < 0:
                raise SystemExit(f"{path}:{n}: negative hold_ms or flight_ms")
            if subject in last_instant and t <= last_instant[subject]:
                raise SystemExit(f"{path}:{n}: rows of {subject} not in strict time order")
            last_instant[subject] = t
            self.rows += 1
            self.key_counts[key] = self.key_counts.get(key, 0) + 1
            # Local wall clock as the timestamp's own offset gives it (microseconds -> ms).
            ms = ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000
            by_subject.setdefault(subject, {}).setdefault(t.date(), []).append((ms, hold, flight, key))
        self.all_subjects = sorted(by_subject)
        self.subjects = [s for s in self.all_subjects if s not in EXCLUDED]
        if not self.subjects:
            raise SystemExit(f"{path}: no source subject (besides {', '.join(EXCLUDED)})")
        self.days = {}               # subject -> [SourceDay] in date order (days with >= 100 keys)
        self.thin = {}               # subject -> [(date, keystrokes)] skipped, too few keys
        for s in self.subjects:
            self.days[s], self.thin[s] = [], []
            for d in sorted(by_subject[s]):
                ev = by_subject[s][d]
                if len(ev) >= MIN_KEYSTROKES:
                    self.days[s].append(SourceDay(s, d, ev))
                else:
                    self.thin[s].append((d, len(ev)))
            if not self.days[s]:
                raise SystemExit(f"{path}: {s} has no day with >= {MIN_KEYSTROKES} keystrokes")


# ---------------------------------------------------------------------------- building blocks

def pick_sessions(rng, sizes, target, lo=1, hi=None):
    """Indices of a set of whole sessions (lo..hi of them) holding about `target` of the keys.

    Every set within SHARE_TOLERANCE of the target share qualifies and one is drawn uniformly;
    when none does, one of the closest. Days with more than ENUMERATE_MAX sessions use the
    prefixes of 64 random orders as the candidate sets instead of all subsets."""
    n = len(sizes)
    hi = n if hi is None else hi
    total = sum(sizes)
    if n <= ENUMERATE_MAX:
        sets = []
        for mask in range(1, 1 << n):
            idx = [i for i in range(n) if mask >> i & 1]
            if lo <= len(idx) <= hi:
                sets.append(idx)
    else:
        seen, sets = set(), []
        for _ in range(64):
            order = list(range(n))
            rng.shuffle(order)
            for k in range(lo, hi + 1):
                idx = tuple(sorted(order[:k]))
                if idx not in seen:
                    seen.add(idx)
                    sets.append(list(idx))
    good, best, best_d = [], [], None
    for idx in sets:
        d = abs(sum(sizes[i] for i in idx) / total - target)
        if d <= SHARE_TOLERANCE + 1e-12:
            good.append(idx)
        if best_d is None or d < best_d - 1e-12:
            best, best_d = [idx], d
        elif abs(d - best_d) <= 1e-12:
            best.append(idx)
    pool = good or best
    return pool[rng.randrange(len(pool))]


def place(session, start):
    """The session moved to begin at `start`, its internal timing kept."""
    d = start - session[0][0]
    return [(t + d, h, f, k) for t, h, f, k in session]


def settle(sessions):
    """Sessions sorted by start; one beginning within 5 min of the previous one's last key is pushed
    to start SEPARATION_MS after it. Returns (sessions, pushed, dropped): a session pushed past
    the end of the day is dropped."""
    out, pushed, dropped = [], 0, 0
    for s in sorted(sessions, key=lambda s: s[0][0]):
        if out and s[0][0] - out[-1][-1][0] <= SESSION_GAP_MS:
            s = place(s, out[-1][-1][0] + SEPARATION_MS)
            pushed += 1
            if s[-1][0] >= DAY_MS:
                dropped += 1
                continue
        out.append(s)
    return out, pushed, dropped


def slowing(sessions, tier):
    """Flights x factor and holds x factor (rounded half up); every press after a session's first
    moves by the time its own flight and the previous key's hold gained, so press(i+1) - press(i)
    = hold(i) + flight(i+1) still holds where it held. A session keeps its start."""
    ff, hf = SLOWING[tier]
    out = []
    for s in sessions:
        t0, h0, f0, k0 = s[0]
        new = [(t0, scale(h0, hf), scale(f0, ff), k0)]
        for i in range(1, len(s)):
            t, h, f, k = s[i]
            h2, f2 = scale(h, hf), scale(f, ff)
            gap = (t - s[i - 1][0]) + (new[-1][1] - s[i - 1][1]) + (f2 - f)
            new.append((new[-1][0] + gap, h2, f2, k))
        out.append(new)
    return out


def night(sessions, tier, rng):
    """Whole sessions holding about the tier's share of the day's keys (at least one, never all
    when there are two or more) moved to start at a random time such that they lie within
    00:30-04:30 local, internal timing kept, each >= 10 min clear of every other session. A
    session with no free slot after NIGHT_TRIES draws stays where it was.
    Returns (sessions, moved, stayed)."""
    n = len(sessions)
    idx = pick_sessions(rng, [len(s) for s in sessions], NIGHT[tier], 1, max(1, n - 1))
    keep = [s for i, s in enumerate(sessions) if i not in idx]
    movers = [sessions[i] for i in idx]
    rng.shuffle(movers)
    moved = stayed = 0
    for s in movers:
        dur = s[-1][0] - s[0][0]
        lo, hi = NIGHT_WINDOW[0], NIGHT_WINDOW[1] - dur
        spot = None
        for _ in range(NIGHT_TRIES if hi >= lo else 0):
            start = rng.randint(lo, hi)
            end = start + dur
            if all(start - o[-1][0] >= SEPARATION_MS or o[0][0] - end >= SEPARATION_MS for o in keep):
                spot = start
                break
        if spot is None:
            keep.append(s)
            stayed += 1
        else:
            keep.append(place(s, spot))
            moved += 1
    keep.sort(key=lambda s: s[0][0])
    return keep, moved, stayed


def corrections(sessions, tier, rng):
    """round(b x factor) - b char keys, drawn at random among the day's char keys, become backspace
    (b: the day's backspaces; timing unchanged). Returns (sessions, converted)."""
    pos = [(i, j) for i, s in enumerate(sessions) for j, e in enumerate(s) if e[3] == "backspace"]
    chars = [(i, j) for i, s in enumerate(sessions) for j, e in enumerate(s) if e[3] == "char"]
    extra = min(len(chars), scale(len(pos), CORRECTIONS[tier]) - len(pos))
    out = [list(s) for s in sessions]
    for i, j in rng.sample(chars, extra):
        t, h, f, _ = out[i][j]
        out[i][j] = (t, h, f, "backspace")
    return out, extra


# ---------------------------------------------------------------------------- series

def build_series(src, r, source_subject, i, per, days, seed):
    """Series i of source subject r: days whole source days drawn with replacement, each shifted
    and thinned a little; odd i get an episode."""
    s = Series()
    s.subject = subject_name(source_subject, i, per)
    s.source_subject = source_subject
    pool = src.days[source_subject]
    pick = rng_for(seed, s.subject, "days")
    perturb = rng_for(seed, s.subject, "perturb")
    s.picks = [pick.randrange(len(pool)) for _ in range(days)]
    s.label, s.episode = "none", None
    s.day_label = ["none"] * days
    if i % 2 == 1:
        kind, tier = COMBOS[(i // 2 + 2 * r) % len(COMBOS)]
        first, length = draw_episode(rng_for(seed, s.subject, "episode"))
        s.label = f"{kind}-{tier}"
        s.episode = (kind, tier, first, length)
        for d in range(first - 1, first - 1 + length):
            s.day_label[d] = s.label
    fill = rng_for(seed, s.subject, "fill")
    s.days = []                      # per day: (events, shift, source sessions, sessions)
    s.stats = dict(pushed=0, dropped=0, moved=0, stayed=0, converted=0)
    for d in range(days):
        sd = pool[s.picks[d]]
        n = len(sd.sessions)
        # Perturbation, drawn for every day (episode days too, so that the clean days of a series do
        # not depend on its episode): the kept sessions, then the shift.
        f = perturb.uniform(*KEEP_FRACTION)
        k = min(n, max(1, int(f * n + perturb.random())))
        kept = sorted(perturb.sample(range(n), k))
        shift = perturb.randint(-SHIFT_MS, SHIFT_MS)
        kind = s.episode[0] if s.day_label[d] != "none" else None
        tier = s.episode[1] if kind else None
        if kind == "less":
            # Withdrawal replaces the perturbation's thinning: whole sessions of the source day
            # holding about the tier's share of its keys are kept.
            kept = pick_sessions(fill, [len(x) for x in sd.sessions], LESS[tier])
        sessions = [sd.sessions[j] for j in kept]
        # The whole day moves by the shift, clamped so that it stays within its calendar date.
        shift = max(-sessions[0][0][0], min(DAY_MS - 1 - sessions[-1][-1][0], shift))
        sessions = [place(x, x[0][0] + shift) for x in sessions]
        if kind == "slowing":
            sessions = slowing(sessions, tier)
        elif kind == "night":
            sessions, moved, stayed = night(sessions, tier, fill)
            s.stats["moved"] += moved
            s.stats["stayed"] += stayed
        elif kind == "corrections":
            sessions, converted = corrections(sessions, tier, fill)
            s.stats["converted"] += converted
        sessions, pushed, dropped = settle(sessions)
        s.stats["pushed"] += pushed
        s.stats["dropped"] += dropped
        events = [e for x in sessions for e in x]
        s.days.append((events, shift, n, len(sessions)))
    return s


def episode_dates(first, length):
    """Local dates of an episode's first and last day (inclusive)."""
    return START + timedelta(days=first - 1), START + timedelta(days=first + length - 2)


# ---------------------------------------------------------------------------- output

def fmt(x, digits=6):
    if x is None:
        return ""
    if isinstance(x, int) or float(x).is_integer():
        return str(int(x))
    return f"{x:.{digits}f}".rstrip("0")


COMPARED = ("keystrokes", "sessions", "flight_median", "hold_median", "backspace_rate", "late_night_share")


def build(out_dir, per, days, seed, source):
    """Write the benchmark into out_dir. Returns {file name: (sha256, bytes, data rows)} and stats."""
    t0 = time.monotonic()
    src = source if isinstance(source, Source) else Source(source)
    prefixes = [(START + timedelta(days=d)).isoformat() + "T" for d in range(days)]
    first_date, last_date = START, START + timedelta(days=days - 1)

    files = open_outputs(out_dir, ("typing.csv", "EPISODES.csv", "series.csv", "days.csv", "source-days.csv"))
    files["typing.csv"].write(HEADER + "\n")
    files["EPISODES.csv"].write("subject,start,end,label\n")
    files["series.csv"].write("subject,source_subject,episode,first_date,last_date\n")
    files["days.csv"].write("subject,day,date,source_date,shift_ms,source_sessions,sessions,"
                            "keystrokes,episode\n")
    files["source-days.csv"].write("subject,date,keystrokes,sessions,flight_median,flight_mad,"
                                   "hold_median,backspace_rate,late_night_share\n")
    for subject in src.subjects:
        for sd in src.days[subject]:
            f = sd.features
            files["source-days.csv"].write(
                f"{subject},{sd.date},{f['keystrokes']},{f['sessions']},{fmt(f['flight_median'])},"
                f"{fmt(f['flight_mad'])},{fmt(f['hold_median'])},{fmt(f['backspace_rate'])},"
                f"{fmt(f['late_night_share'])}\n", rows=1)

    counts_by_label, totals = {}, dict(pushed=0, dropped=0, moved=0, stayed=0, converted=0)
    ratios = {}                      # label -> feature -> [episode day value / source day value]
    clean_ratio = {k: [] for k in ("keystrokes", "sessions")}
    keys_per_day = []
    for r, source_subject in enumerate(src.subjects):
        pool = src.days[source_subject]
        for i in range(per):
            s = build_series(src, r, source_subject, i, per, days, seed)
            subj = f",{s.subject},"
            lines, day_lines = [], []
            for d, (events, shift, n_src, n_sessions) in enumerate(s.days):
                p = prefixes[d]
                prev = -1
                for t, h, f, k in events:
                    if t <= prev or not 0 <= t < DAY_MS:
                        raise AssertionError(f"{s.subject} day {d + 1}: events out of order or outside the day")
                    prev = t
                    lines.append(f"{p}{clock(t)}{subj}{h},{f},{k}\n")
                sd = pool[s.picks[d]]
                keys_per_day.append(len(events))
                day_lines.append(f"{s.subject},{d + 1},{START + timedelta(days=d)},{sd.date},{shift},"
                                 f"{n_src},{n_sessions},{len(events)},{s.day_label[d]}\n")
                if s.day_label[d] != "none":
                    fo, fs = features(events), sd.features
                    dst = ratios.setdefault(s.label, {k: [] for k in COMPARED})
                    for key in COMPARED:
                        if key == "late_night_share":
                            dst[key].append(fo[key] - fs[key])     # a difference: the source has none
                        elif fs[key]:
                            dst[key].append(fo[key] / fs[key])
                else:
                    clean_ratio["keystrokes"].append(len(events) / sd.keystrokes)
                    clean_ratio["sessions"].append(n_sessions / n_src)
            files["typing.csv"].write("".join(lines), rows=len(lines))
            files["days.csv"].write("".join(day_lines), rows=len(day_lines))
            files["series.csv"].write(
                f"{s.subject},{source_subject},{s.label},{first_date},{last_date}\n", rows=1)
            counts_by_label[s.label] = counts_by_label.get(s.label, 0) + 1
            for k in totals:
                totals[k] += s.stats[k]
            if s.episode:
                kind, tier, first, length = s.episode
                d0, d1 = episode_dates(first, length)
                files["EPISODES.csv"].write(f"{s.subject},{d0},{d1},{s.label}\n", rows=1)
    result = close_outputs(files)
    stats = dict(src=src, counts_by_label=counts_by_label, totals=totals, ratios=ratios,
                 clean_ratio=clean_ratio, keys_per_day=keys_per_day, seconds=time.monotonic() - t0)
    return result, stats


def median(v):
    return statistics.median(v) if v else float("nan")


def print_summary(out_dir, per, days, seed, result, stats):
    src = stats["src"]
    print(f"benchmark: {len(src.subjects) * per} series ({per} per source subject), {days} days each,"
          f" seed {seed}, day 1 = {START} (a {START.strftime('%A')})")
    print(f"source: {src.path}: {src.rows} rows, subjects {', '.join(src.all_subjects)}"
          f" (not used: {', '.join(s for s in src.all_subjects if s not in src.subjects)})")
    print("  keys: " + ", ".join(f"{k} {src.key_counts.get(k, 0)}" for k in KEYS))
    for subject in src.subjects:
        ds = src.days[subject]
        ks = sorted(d.keystrokes for d in ds)
        ns = sorted(len(d.sessions) for d in ds)
        fm = [d.features["flight_median"] for d in ds]
        thin = "; ".join(f"{d} ({n} keys)" for d, n in src.thin[subject]) or "none"
        print(f"  {subject}: {len(ds)} days {ds[0].date} .. {ds[-1].date}, keystrokes {ks[0]}..{ks[-1]}"
              f" (median {median(ks):g}), sessions {ns[0]}..{ns[-1]}, flight median {min(fm):g}..{max(fm):g} ms;"
              f" days skipped (< {MIN_KEYSTROKES} keys): {thin}")
    labels = stats["counts_by_label"]
    n_ep = sum(v for k, v in labels.items() if k != "none")
    print(f"episodes: {n_ep} of {sum(labels.values())} series; clean: {labels.get('none', 0)}")
    for kind, tier in COMBOS:
        label = f"{kind}-{tier}"
        rs = stats["ratios"].get(label)
        if not rs:
            print(f"  {label}: 0")
            continue
        n_days = len(rs["keystrokes"])
        print(f"  {label}: {labels.get(label, 0)} series, {n_days} days; median over its days, vs the"
              f" source day: keystrokes x{median(rs['keystrokes']):.2f}, sessions x{median(rs['sessions']):.2f},"
              f" flight median x{median(rs['flight_median']):.3f}, hold median x{median(rs['hold_median']):.3f},"
              f" backspace rate x{median(rs['backspace_rate']):.2f},"
              f" late-night share +{median(rs['late_night_share']):.3f}")
    cr = stats["clean_ratio"]
    k = stats["keys_per_day"]
    t = stats["totals"]
    print(f"days outside episodes: keystrokes x{median(cr['keystrokes']):.3f} of the source day (median;"
          f" mean x{statistics.fmean(cr['keystrokes']):.3f}), sessions kept x{statistics.fmean(cr['sessions']):.3f}"
          f" (mean); keystrokes a day over all days {min(k)}..{max(k)}")
    print(f"edits: {t['moved']} sessions moved to the night ({t['stayed']} found no free slot),"
          f" {t['converted']} char keys made backspace, {t['pushed']} sessions pushed apart,"
          f" {t['dropped']} dropped at the day's end")
    print_outputs(out_dir, result, stats["seconds"], [(src.sha256, os.path.basename(src.path))])


# ---------------------------------------------------------------------------- self-test

def parse_ms(hms):
    h, m, rest = hms.split(":")
    s, ms = rest.split(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


# What the self-test expects, written out from the issue rather than read from the constants above,
# so that a wrong constant fails it too.
SPEC = dict(
    slowing={"standard": (1.30, 1.10), "mild": (1.15, 1.05)},   # flight, hold
    night={"standard": 0.30, "mild": 0.15},
    corrections={"standard": 2.0, "mild": 1.5},
    less={"standard": 0.40, "mild": 0.65},
    shift_ms=30 * 60_000, keep_fraction=0.85,
    night_window=(30 * 60_000, 4 * 3_600_000 + 30 * 60_000),
)


def self_test(source_path):
    per, days, seed = 4, 56, 1
    test = SelfTest()
    check = test.check
    src = Source(source_path)
    source_days = {(sd.subject, sd.date.isoformat()): sd for s in src.subjects for sd in src.days[s]}

    def build_into(out):
        return build(out, per, days, seed, Source(source_path))[0]

    with built_twice(check, build_into) as one:
        series, episodes, dayrows = read_listings(one)
        n_ep = sum(s["episode"] != "none" for s in series)
        check(len(series) == len(src.subjects) * per and n_ep * 2 == len(series),
              f"exactly half the series have an episode ({n_ep} of {len(series)})")
        check("eli" not in src.subjects and all(s["source_subject"] != "eli" for s in series),
              f"eli is not a source (sources: {', '.join(src.subjects)})")
        last = START + timedelta(days=days - 1)
        check(all(x["first_date"] == str(START) and x["last_date"] == str(last) for x in series),
              f"series.csv: every series covers {START} .. {last}")
        check(len(episodes) == n_ep and {e["subject"] for e in episodes}
              == {s["subject"] for s in series if s["episode"] != "none"}
              and all(e["label"] == next(s["episode"] for s in series if s["subject"] == e["subject"])
                      for e in episodes),
              "EPISODES.csv lists exactly the episode series, with their labels")
        check(sorted(e["label"] for e in episodes) == sorted(f"{k}-{t}" for k, t in COMBOS),
              "each episode type and tier once (" + ", ".join(e["label"] for e in episodes) + ")")
        spans = []
        for e in episodes:
            a, b = date.fromisoformat(e["start"]), date.fromisoformat(e["end"])
            spans.append(((a - START).days + 1, (b - a).days + 1))
        check(all(29 <= f <= 42 and 7 <= n <= 10 and f + n - 1 <= 51 for f, n in spans),
              "every episode starts on day 29..42, lasts 7..10 days, ends by day 51: "
              + ", ".join(f"day {f}+{n}" for f, n in spans))
        ep_of = {e["subject"]: e for e in episodes}
        agree = True
        for row in dayrows:
            e = ep_of.get(row["subject"])
            inside = e is not None and e["start"] <= row["date"] <= e["end"]
            if (row["episode"] != "none") != inside or (inside and row["episode"] != e["label"]):
                agree = False
        check(agree and len(dayrows) == len(series) * days,
              "days.csv: a day carries the episode label exactly on the EPISODES.csv dates")

        # Key events per (subject, date).
        by_day = {}
        with open(os.path.join(one, "typing.csv")) as f:
            header = f.readline().strip()
            good, prev, keys_ok, values_ok, stamps_ok = True, None, True, True, True
            for line in f:
                ts, subj, h, fl, k = line.rstrip("\n").split(",")
                if prev is not None and (subj, ts) <= prev:
                    good = False
                prev = (subj, ts)
                keys_ok = keys_ok and k in KEYS
                stamps_ok = stamps_ok and len(ts) == 23 and ts[10] == "T" and ts[19] == "."
                h, fl = int(h), int(fl)
                values_ok = values_ok and 0 < h <= 60_000 and 0 <= fl
                by_day.setdefault((subj, ts[:10]), []).append((parse_ms(ts[11:]), h, fl, k))
        check(header == HEADER and good,
              "typing.csv has the header and is sorted by subject, then time (strictly)")
        check(keys_ok and values_ok, f"key classes are {', '.join(KEYS)}; hold_ms and flight_ms in range")
        check(stamps_ok,
              "timestamps are local date-times without offset, millisecond precision")

        feats, n_sessions_ok, counts_ok = {}, True, True
        for row in dayrows:
            ev = by_day.get((row["subject"], row["date"]), [])
            feats[(row["subject"], row["date"])] = features(ev) if ev else None
            if len(ev) != int(row["keystrokes"]):
                counts_ok = False
            if not ev or len(sessions_of(ev)) != int(row["sessions"]):
                n_sessions_ok = False
        check(counts_ok and sum(len(v) for v in by_day.values()) == sum(int(r["keystrokes"]) for r in dayrows),
              "days.csv keystrokes match typing.csv")
        check(n_sessions_ok, "sessions never run together: Canary's session count (5-min gap) of every day"
                             " equals the number of sessions placed")
        def timed(sessions):
            return all(x[i + 1][0] - x[i][0] == x[i][1] + x[i + 1][2]
                       for x in sessions for i in range(len(x) - 1))

        if all(timed(sd.sessions) for sd in source_days.values()):
            check(all(timed(sessions_of(ev)) for ev in by_day.values()),
                  "within every session, press(i+1) - press(i) = hold(i) + flight(i+1), as in the source")
        else:
            print("SKIP press(i+1) - press(i) = hold(i) + flight(i+1): the source does not hold to it")
        check(all(f and f["keystrokes"] >= MIN_KEYSTROKES for f in feats.values()),
              f"every day has >= {MIN_KEYSTROKES} keystrokes (has typing features)")

        # Clean days are whole source sessions, unchanged inside, all shifted by the day's shift.
        exact, bad = 0, 0
        for row in dayrows:
            if row["episode"] != "none":
                continue
            src_day = source_days[(row["subject"].rsplit("-", 1)[0], row["source_date"])]
            shift = int(row["shift_ms"])
            want = {tuple((t + shift, h, f, k) for t, h, f, k in x) for x in src_day.sessions}
            got = sessions_of(by_day[(row["subject"], row["date"])])
            if all(tuple(x) in want for x in got) and abs(shift) <= SPEC["shift_ms"] \
                    and len(got) >= max(1, int(SPEC["keep_fraction"] * len(src_day.sessions))):
                exact += 1
            else:
                bad += 1
        check(bad == 0, f"days outside episodes are whole sessions of their source day, shifted by"
                        f" <= 30 min ({exact} days)")

        def signature(x, kind):
            """What an episode leaves unchanged in a session: its keys (slowing), its timing
            (corrections), or everything relative to its first key (night, less)."""
            if kind == "slowing":
                return tuple(e[3] for e in x)
            if kind == "corrections":
                return tuple((e[1], e[2]) for e in x)
            return tuple((e[0] - x[0][0], e[1], e[2], e[3]) for e in x)

        def source_of(row):
            return source_days[(row["subject"].rsplit("-", 1)[0], row["source_date"])]

        def kept_sessions(row):
            """The source day's sessions the episode day was made from (None if one is not found)."""
            kind = row["episode"].split("-")[0]
            pool = {signature(x, kind): x for x in source_of(row).sessions}
            got = [pool.get(signature(x, kind)) for x in sessions_of(by_day[(row["subject"], row["date"])])]
            return None if None in got else sorted(got, key=lambda x: x[0][0])

        matched = {}
        for row in dayrows:
            if row["episode"] != "none":
                matched[(row["subject"], row["date"])] = kept_sessions(row)
        check(all(v is not None for v in matched.values()),
              f"episode days are made of whole sessions of their source day ({len(matched)} days)")

        def ratios(label, key, kept=False):
            """(episode day, source day) features of each day of the label's episodes, or the ratio
            of one feature; kept: only the source sessions the day was made from count."""
            out = []
            for row in dayrows:
                if row["episode"] != label:
                    continue
                fo = feats[(row["subject"], row["date"])]
                if kept:
                    fs = features([e for x in matched[(row["subject"], row["date"])] or [] for e in x])
                else:
                    fs = source_of(row).features
                out.append((fo, fs))
            if key is None:
                return out
            return [fo[key] / fs[key] for fo, fs in out]

        def spread(v, digits=3):
            if not v:
                return "no days"
            return f"median x{median(v):.{digits}f}, range {min(v):.{digits}f}..{max(v):.{digits}f}, {len(v)} days"

        for tier in ("standard", "mild"):
            ff, hf = SPEC["slowing"][tier]
            fr, hr = ratios(f"slowing-{tier}", "flight_median"), ratios(f"slowing-{tier}", "hold_median")
            fk, hk = (ratios(f"slowing-{tier}", "flight_median", kept=True),
                      ratios(f"slowing-{tier}", "hold_median", kept=True))
            check(fr and abs(median(fr) - ff) <= 0.02 and all(abs(x - ff) <= 0.1 for x in fr),
                  f"slowing-{tier}: a day's median flight is about x{ff} its source day's ({spread(fr)})")
            check(fk and all(abs(x - ff) <= 0.01 for x in fk),
                  f"slowing-{tier}: ... and x{ff} within 0.01 against the source sessions it kept ({spread(fk)})")
            check(hr and abs(median(hr) - hf) <= 0.02 and all(abs(x - hf) <= 0.1 for x in hr),
                  f"slowing-{tier}: a day's median hold is about x{hf} its source day's ({spread(hr)})")
            check(hk and all(abs(x - hf) <= 0.02 for x in hk),
                  f"slowing-{tier}: ... and x{hf} within 0.02 against the source sessions it kept ({spread(hk)})")

        for tier in ("standard", "mild"):
            pairs = ratios(f"night-{tier}", None)
            late = [fo["late_night_share"] for fo, _ in pairs]
            check(pairs and all(fo["late_night_share"] * fo["keystrokes"] > fs["late_night_share"] * fs["keystrokes"]
                                for fo, fs in pairs) and abs(median(late) - SPEC["night"][tier]) <= 0.07,
                  f"night-{tier}: each day has more keystrokes in 00:00-05:00 than its source day, about the share"
                  f" (late-night share median {median(late):.2f}, range {min(late or [0]):.2f}..{max(late or [0]):.2f},"
                  f" {len(pairs)} days; target {SPEC['night'][tier]})")
            night_ok = True
            for row in dayrows:
                if row["episode"] != f"night-{tier}":
                    continue
                for x in sessions_of(by_day[(row["subject"], row["date"])]):
                    if x[0][0] < LATE_NIGHT_END_MS and not (SPEC["night_window"][0] <= x[0][0] and x[-1][0] <= SPEC["night_window"][1]):
                        night_ok = False
            check(night_ok, f"night-{tier}: moved sessions lie within 00:30-04:30")

        for tier in ("standard", "mild"):
            label, target = f"corrections-{tier}", SPEC["corrections"][tier]
            br = ratios(label, "backspace_rate")
            exact = all(round(fo["backspace_rate"] * fo["keystrokes"])
                        == scale(round(fs["backspace_rate"] * fs["keystrokes"]), target)
                        for fo, fs in ratios(label, None, kept=True))
            check(br and abs(median(br) - target) <= 0.1 and all(abs(x - target) <= 0.35 for x in br),
                  f"{label}: backspace rate about x{target} its source day's ({spread(br, 2)})")
            check(exact, f"{label}: ... and exactly round(x{target}) the backspaces of the source sessions it kept")

        for tier in ("standard", "mild"):
            kr = ratios(f"less-{tier}", "keystrokes")
            target = SPEC["less"][tier]
            check(kr and abs(median(kr) - target) <= 0.05 and all(abs(x - target) <= 0.15 for x in kr),
                  f"less-{tier}: each day has about {target:.0%} of its source day's keystrokes"
                  f" (median x{median(kr):.2f}, range {min(kr or [0]):.2f}..{max(kr or [0]):.2f}, {len(kr)} days)")
    return test.finish()


# ---------------------------------------------------------------------------- main

def main():
    ap = parser(__doc__, "--per-subject", 12, "source subject", MIN_DAYS, "--source", default_source(),
                "the typing file to resample (default config/sample/typing.csv from the"
                " repository root)")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.source)
    per = checked_build_args(ap, args, "--per-subject", MIN_DAYS)
    result, stats = build(args.out, per, args.days, args.seed, args.source)
    print_summary(args.out, per, args.days, args.seed, result, stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
