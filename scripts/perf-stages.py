#!/usr/bin/env python3
"""Per-stage CPU nanoseconds per row of a replay, from a perf profile (issue 12).

    perf record -F 2000 -g -o /tmp/perf.data canaryctl replay --config bench/peer.toml samples.csv
    perf report -i /tmp/perf.data --no-children --sort pid,sym -g none | grep -E '^ +[0-9]' > /tmp/perf.txt
    python3 scripts/perf-stages.py /tmp/perf.txt ROWS CPU_SECONDS     # CPU = user + system of the same run

Each sampled symbol is put in the first group whose pattern it matches; a group's share of the samples
times the run's CPU seconds, divided by the rows, is its cost per row (both threads together).
"""
import re, sys, collections
path, rows, cpu = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
groups = [
 ("line splitting", r"LineSplitter"),
 ("field splitting", r"RecordParserV8parseRow|RecordParserV5field|RecordParserV5parse|RecordParserV6sample|RecordParserV8activity"),
 ("numbers and timestamps", r"NumberParser|TimestampParser|timestampValue|numberValue"),
 ("names (cache, compare)", r"IdentifierCache|memcmp"),
 ("decode layers, batching", r"FileReader|IngestStream|ReplayReader|IngestDecoder|BoundedQueue|MergeInput"),
 ("hashing (dictionaries)", r"Hasher|RawDictionaryStorage|NativeDictionary|stringCompare"),
 ("record copies, retain/release", r"RecordO|swift_retain|swift_release|memmove|bridgeObject|isUniquely|RefCounts|SeriesStateV|SubjectStateV"),
 ("evaluation (ingest, baselines, rules)", r"EngineEvaluator|CanaryEngine|EWMABaseline|ThresholdRule|ReplayV3run|ZoneClock|PerStream"),
 ("day features (activity, rest, rhythm)", r"ActivityFeatures|ColeKripke|RestPeriod|RhythmFeatures|NonWear|MinuteEpochs|activityDay|rhythmValues|nightValues|RobustStatistics|RobustBaseline"),
]
tot = collections.Counter(); threads = collections.Counter()
for line in open(path):
    m = re.match(r"\s+([\d.]+)%\s+(\d+):\S+\s+\[.\]\s+(\S+)", line)
    if not m: continue
    pct, pid, sym = float(m.group(1)), m.group(2), m.group(3)
    threads[pid] += pct
    for name, pat in groups:
        if re.search(pat, sym): tot[name] += pct; break
    else: tot["other"] += pct
scale = cpu / rows * 1e9 / 100
print("threads:", {k: round(v,1) for k,v in threads.items()})
for name, _ in groups + [("other", "")]:
    print(f"| {name} | {tot[name]*scale:.0f} |")
print(f"| all | {sum(tot.values())*scale:.0f} |")
