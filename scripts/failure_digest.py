#!/usr/bin/python3
"""Prints a short digest of every failed ctest test: its assertion failures and last lines.

scripts/test.sh calls it after a failed ctest run, so the end of the output (which CI excerpts
keep when they cut the middle of a long log) names what failed, where, and with which seed.
Reads <build>/Testing/Temporary/LastTestsFailed.log and LastTest.log, ctest's own records.
Usage: failure_digest.py BUILD_DIR [MAX_LINES_PER_TEST]
"""
import re
import sys
from pathlib import Path

# Lines worth keeping wherever they appear: gtest assertion sites and what the test said about
# how to replay it.
KEEP = re.compile(r"Failure$|: Failure|Expected|Which is|Value of|Actual|seed|replay|RM_[A-Z_]+=",
                  re.IGNORECASE)
TAIL_LINES = 12


def sections(log_text):
    """Yields (test name, output lines) for each test recorded in LastTest.log."""
    pattern = re.compile(r"^\d+/\d+ Test: (\S+)$", re.MULTILINE)
    starts = list(pattern.finditer(log_text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(log_text)
        body = log_text[m.end():end]
        out_start = body.find("Output:\n")
        out_end = body.find("<end of output>")
        if out_start < 0:
            continue
        text = body[out_start + len("Output:\n"):out_end if out_end >= 0 else None]
        yield m.group(1), [line for line in text.splitlines() if not line.startswith("-----")]


def digest(lines, limit):
    keep = []
    for i, line in enumerate(lines):
        if KEEP.search(line):
            keep.extend(range(i, min(i + 4, len(lines))))
    keep.extend(range(max(0, len(lines) - TAIL_LINES), len(lines)))
    picked = sorted(set(keep))
    if len(picked) > limit:  # the assertion sites first, then as much of the tail as fits
        picked = sorted(set(picked[:limit // 2] + picked[-(limit - limit // 2):]))
    out, previous = [], -1
    for i in picked:
        if previous >= 0 and i != previous + 1:
            out.append("  ...")
        out.append("  " + lines[i][:300])
        previous = i
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    temp = Path(sys.argv[1]) / "Testing" / "Temporary"
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    failed_log = temp / "LastTestsFailed.log"
    if not failed_log.exists():
        return 0
    failed = [line.split(":", 1)[1].strip() for line in failed_log.read_text().splitlines()
              if ":" in line]
    if not failed:
        return 0
    outputs = {}
    log = temp / "LastTest.log"
    if log.exists():
        for name, lines in sections(log.read_text(errors="replace")):
            outputs[name] = lines
    print(f"\n=== digest of {len(failed)} failed test(s) (full output above) ===")
    for name in failed:
        print(f"--- {name}")
        lines = outputs.get(name)
        if lines is None:
            print("  (no output recorded: timed out or did not start?)")
            continue
        print("\n".join(digest(lines, limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
