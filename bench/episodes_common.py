"""What the two injected-episode benchmark generators share.

bench/make-episodes.py (activity) and bench/make-typing-episodes.py (typing) build their series
the same way around different data: the same command line shape, per-series random streams, the
same episode placement (start day 29..42, 7..10 days), SHA-256-hashed CSV output and a self-test
that builds twice and prints PASS/FAIL lines. Those shared parts live here; everything about the
data itself (reading it, the episodes, the output columns) stays in each generator.

Not run on its own: each generator imports it from its own folder. Python 3 standard library only.
"""

import argparse
import contextlib
import hashlib
import os
import random
import tempfile
import time

# ---------------------------------------------------------------------------- episode placement

EPISODE_FIRST_DAY = (29, 42)         # 1-based series day an episode starts on, inclusive
EPISODE_LENGTH = (7, 10)             # days, inclusive


def draw_episode(rng):
    """(first day, length) of an episode, drawn from its series' episode stream in that order."""
    first = rng.randint(*EPISODE_FIRST_DAY)
    length = rng.randint(*EPISODE_LENGTH)
    return first, length


# ---------------------------------------------------------------------------- helpers

def repo_root():
    """The repository root: the folder above bench/."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def series_rng(namespace, seed, subject, stream):
    # String seeds are hashed with SHA-512 by random.Random: stable across runs and platforms
    # (the convention of scripts/make-sample-data.py).
    return random.Random(f"{namespace}/{seed}/{subject}/{stream}")


def scale(x, f):
    """Multiply then round half up: integers >= 0 stay integers >= 0, and zeros stay zero."""
    return int(x * f + 0.5)


class Series:
    """One generated series; each generator sets its own attributes."""


def subject_name(prefix, i, per):
    return f"{prefix}-{i:0{max(2, len(str(per - 1)))}d}"


# ---------------------------------------------------------------------------- input

def read_rows(path, header):
    """(SHA-256 of the file, its data rows): the file must start with `header`; the rows are
    (line number, fields), blank lines skipped, each checked to have the header's column count."""
    with open(path, "rb") as f:
        raw = f.read()
    sha256 = hashlib.sha256(raw).hexdigest()
    lines = raw.decode("utf-8").splitlines()
    if not lines or lines[0].strip() != header:
        raise SystemExit(f"{path}: expected the header '{header}'")
    columns = len(header.split(","))

    def rows():
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            parts = line.split(",")
            if len(parts) != columns:
                raise SystemExit(f"{path}:{n}: expected {columns} columns")
            yield n, parts

    return sha256, rows()


# ---------------------------------------------------------------------------- output

class HashedFile:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "wb")
        self.h = hashlib.sha256()
        self.size = 0
        self.rows = 0

    def write(self, text, rows=0):
        data = text.encode("ascii")
        self.f.write(data)
        self.h.update(data)
        self.size += len(data)
        self.rows += rows

    def close(self):
        self.f.close()
        return self.h.hexdigest()


def open_outputs(out_dir, names):
    """out_dir (created if missing) and a HashedFile in it for each name, in order."""
    os.makedirs(out_dir, exist_ok=True)
    return {name: HashedFile(os.path.join(out_dir, name)) for name in names}


def close_outputs(files):
    """Close them all: {file name: (sha256, bytes, data rows)}."""
    return {name: (f.close(), f.size, f.rows) for name, f in files.items()}


def print_outputs(out_dir, result, seconds, inputs):
    """The end of a build's summary: each output's size, the inputs' and outputs' SHA-256.
    inputs: [(sha256, name)]."""
    for name, (sha, size, rows) in result.items():
        print(f"  {name}: {rows} rows, {size} bytes")
    print(f"written to {out_dir} in {seconds:.1f} s")
    print("inputs:" if len(inputs) > 1 else "input:")
    for sha, name in inputs:
        print(f"  {sha}  {name}")
    print("SHA-256:")
    for name, (sha, size, rows) in result.items():
        print(f"  {sha}  {name}")


# ---------------------------------------------------------------------------- command line

def parser(doc, per_option, per_default, per_of, min_days, input_option, input_default, input_help):
    """The generators' common command line: --out, the even series count per source (per_option),
    --days, --seed, the input (input_option) and --self-test."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output folder (created if missing)")
    ap.add_argument(per_option, type=int, default=per_default,
                    help=f"series per {per_of}, even (default {per_default}); half get an episode")
    ap.add_argument("--days", type=int, default=56, help=f"days per series, >= {min_days} (default 56)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    ap.add_argument(input_option, default=input_default, help=input_help)
    ap.add_argument("--self-test", action="store_true", help="build a small benchmark twice and check it")
    return ap


def checked_build_args(ap, args, per_option, min_days):
    """For a build (not --self-test): exits with a usage error unless --out is given, the series
    count is even and >= 2 and --days >= min_days. Returns the series count."""
    if not args.out:
        ap.error("--out DIR is required")
    per = getattr(args, per_option.lstrip("-").replace("-", "_"))
    if per < 2 or per % 2:
        ap.error(f"{per_option} must be even and >= 2 (exactly half the series get an episode)")
    if args.days < min_days:
        ap.error(f"--days must be >= {min_days} (episodes start on day"
                 f" {EPISODE_FIRST_DAY[0]}..{EPISODE_FIRST_DAY[1]} and last"
                 f" {EPISODE_LENGTH[0]}..{EPISODE_LENGTH[1]} days)")
    return per


# ---------------------------------------------------------------------------- self-test

class SelfTest:
    """PASS/FAIL lines; finish() prints the time taken and the verdict and returns the exit code."""

    def __init__(self):
        self.ok = True
        self.t0 = time.monotonic()

    def check(self, cond, what):
        print(("PASS " if cond else "FAIL ") + what)
        self.ok = self.ok and bool(cond)

    def finish(self):
        print(f"self-test took {time.monotonic() - self.t0:.1f} s")
        print("self-test: " + ("PASS" if self.ok else "FAIL"))
        return 0 if self.ok else 1


@contextlib.contextmanager
def built_twice(check, build_into):
    """Runs build_into(folder) -> {file name: (sha256, ...)} into two temporary folders, checks
    that both give the same files, and yields the first folder (removed afterwards)."""
    with tempfile.TemporaryDirectory() as tmp:
        one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
        res1, res2 = build_into(one), build_into(two)
        check(all(res1[k][0] == res2[k][0] for k in res1),
              "two runs with the same arguments give byte-identical files")
        yield one


def read_csv(path):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    return header, [dict(zip(header, line.split(","))) for line in lines[1:]]


def read_listings(folder):
    """The rows of series.csv, EPISODES.csv and days.csv of a build, as dicts."""
    return tuple(read_csv(os.path.join(folder, name))[1]
                 for name in ("series.csv", "EPISODES.csv", "days.csv"))
