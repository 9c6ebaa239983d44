#!/usr/bin/env python3
"""Prints each test project's duration and the slowest tests, from the TRX files under a results directory.

    python3 .ci/test_times.py RESULTS_DIR [N]     (N slowest tests, default 10)

A test that takes over 60 s must say why in a comment beside it (the suite runs on a busy 2-core machine).
"""
import datetime, glob, os, sys, xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def seconds(text):
    # TRX durations are "hh:mm:ss.fffffff"
    hours, minutes, rest = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def instant(text):
    return datetime.datetime.fromisoformat(text[:26] + text[-6:] if "." in text else text)


def main():
    results, slowest = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
    projects, tests = [], []
    for path in sorted(glob.glob(results + "/**/*.trx", recursive=True)):
        root = ET.parse(path).getroot()
        method = root.find(".//t:TestMethod", NS)
        name = os.path.splitext(os.path.basename(method.get("codeBase")))[0] if method is not None else os.path.basename(path)
        times = root.find("t:Times", NS)
        if times is not None and times.get("start") and times.get("finish"):
            projects.append(((instant(times.get("finish")) - instant(times.get("start"))).total_seconds(), name))
        for result in root.iterfind(".//t:UnitTestResult", NS):
            if result.get("duration"):
                tests.append((seconds(result.get("duration")), result.get("testName"), result.get("outcome")))
    if not projects:
        return
    print("Test projects (wall time, run in parallel):")
    for duration, name in sorted(projects, reverse=True):
        print(f"  {duration:8.1f} s  {name}")
    print(f"Slowest {slowest} tests:")
    for duration, name, outcome in sorted(tests, key=lambda t: t[0], reverse=True)[:slowest]:
        print(f"  {duration:8.1f} s  {name}{'' if outcome == 'Passed' else f' ({outcome})'}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the times are a report: never let them cost the run its closing line
        print(f"test times could not be read: {e}")
