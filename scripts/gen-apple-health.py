#!/usr/bin/env python3
"""Writes a synthetic Apple Health export.xml for the import benchmark (BENCHMARKS.md, "Vendor import").

Usage: python3 scripts/gen-apple-health.py [DAYS] > export.xml   (default 730 days: about 108 MB)

One person in a +01:00 zone from 2024-01-01: heart rate every 5 minutes (each with a metadata child,
as the Health app writes it), a phone's 7-minute step record and an energy record (not imported)
every 10 minutes from 07:00 to 23:00, and one sleep record a night. Deterministic (seeded).
"""
import datetime
import random
import sys

days = int(sys.argv[1]) if len(sys.argv) > 1 else 730
random.seed(1)
zone = datetime.timezone(datetime.timedelta(hours=1))
t0 = datetime.datetime(2024, 1, 1, tzinfo=zone)
minute = datetime.timedelta(minutes=1)


def f(t):
    return t.strftime('%Y-%m-%d %H:%M:%S +0100')


o = sys.stdout
o.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n'
        '<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>\n'
        '<!ATTLIST Record\n  type CDATA #REQUIRED\n  unit CDATA #IMPLIED\n  value CDATA #IMPLIED\n'
        '  sourceName CDATA #REQUIRED\n  startDate CDATA #REQUIRED\n  endDate CDATA #REQUIRED\n>\n]>\n'
        '<HealthData locale="en_GB">\n <ExportDate value="2026-01-01 09:00:00 +0100"/>\n'
        ' <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>\n')
for d in range(days):
    day = t0 + datetime.timedelta(days=d)
    for k in range(0, 1440, 5):
        t = day + k * minute
        o.write(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" sourceVersion="10.4" '
                f'device="&lt;&lt;HKDevice: 0x1&gt;&gt;" unit="count/min" creationDate="{f(t)}" startDate="{f(t)}" '
                f'endDate="{f(t)}" value="{60 + random.randint(0, 30)}">\n'
                '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n')
    for k in range(7 * 60, 23 * 60, 10):
        t = day + k * minute
        o.write(f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" sourceVersion="17" unit="count" '
                f'creationDate="{f(t)}" startDate="{f(t)}" endDate="{f(t + 7 * minute)}" value="{random.randint(0, 900)}"/>\n')
        o.write(f' <Record type="HKQuantityTypeIdentifierActiveEnergyBurned" sourceName="Watch" sourceVersion="10.4" '
                f'unit="kcal" creationDate="{f(t)}" startDate="{f(t)}" endDate="{f(t + minute)}" value="1.5"/>\n')
    s = day + datetime.timedelta(hours=23)
    o.write(f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" sourceVersion="10.4" '
            f'creationDate="{f(s)}" startDate="{f(s)}" endDate="{f(s + datetime.timedelta(hours=7))}" '
            'value="HKCategoryValueSleepAnalysisAsleepCore"/>\n')
o.write('</HealthData>\n')
