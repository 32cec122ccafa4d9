#!/usr/bin/env python3
"""bench/exactly_once.py - exactly-once check of a benchmark run from the
emulator's own records: GET /__emu/stats and GET /__emu/jobs (saved to
files) against the tool's report CSV.

usage: exactly_once.py STATS.json JOBS.json REPORT.csv INVENTORY_ROWS

Prints one line of key=value figures and "ok" or "FAIL: why". Exactly once
means: every report row created, one emulator job per report row, the
report's JobIds are exactly the emulator's, no device in two jobs
(double_assigned empty, and counted again here from the job lists), and
every inventory device in exactly one job.
"""
import csv
import json
import sys


def main():
    stats_path, jobs_path, report_path, rows = sys.argv[1:5]
    rows = int(rows)
    stats = json.load(open(stats_path))
    jobs = json.load(open(jobs_path))
    report = list(csv.DictReader(open(report_path, newline="")))
    why = []
    created = [r for r in report if r["status"] == "created"]
    if len(created) != len(report):
        why.append("%d report rows not created" % (len(report) - len(created)))
    emu_ids = [j["JobId"] for j in jobs]
    rep_ids = [r["job_id"] for r in created]
    if len(set(emu_ids)) != len(emu_ids):
        why.append("duplicate JobIds in the emulator")
    if len(set(rep_ids)) != len(rep_ids):
        why.append("a JobId reported for two chunks")
    if set(emu_ids) != set(rep_ids):
        why.append("%d emulator jobs not in the report, %d reported jobs "
                   "unknown to the emulator"
                   % (len(set(emu_ids) - set(rep_ids)),
                      len(set(rep_ids) - set(emu_ids))))
    seen = {}
    twice = 0
    for j in jobs:
        for d in j["Devices"]:
            key = (j["ProductKey"], d)
            if key in seen:
                twice += 1
            seen[key] = 1
    if twice:
        why.append("%d devices in two jobs" % twice)
    if stats.get("double_assigned"):
        why.append("double_assigned: %d" % len(stats["double_assigned"]))
    if len(seen) != rows:
        why.append("%d devices in jobs, %d in the inventory" % (len(seen), rows))
    print("jobs=%d report_rows=%d devices_in_jobs=%d devices_twice=%d "
          "double_assigned=%d %s"
          % (len(jobs), len(report), len(seen), twice,
             len(stats.get("double_assigned") or []),
             "ok" if not why else "FAIL: " + "; ".join(why)))
    return 0 if not why else 1


if __name__ == "__main__":
    sys.exit(main())
