#!/usr/bin/env python3
"""Checks module boundaries: every `#include` of every module against docs/architecture.md.

The dependency table is read from the document itself (the table under the heading
"## Dependencies"), so the document and this check cannot drift apart. For each source file of a
module folder it fails, naming file and line, when the file
  - includes `"<other>/..."` of a module its row does not list,
  - includes `"<other>/detail/..."` of another module (detail/ is private to its module),
  - includes a restricted third-party header (`<rocksdb/...>`) its row does not list, or lists
    as `(private)` and the file is a public header (a `.h` at the module's folder root); such a
    header may not name the library's types (`rocksdb::DB`) either.

Usage: scripts/check-module-deps.py [repo root]   (exit 0 clean, 1 violations, 2 bad table)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
DOC = ROOT / "docs" / "architecture.md"
# Third-party headers only the modules naming them in the table may include.
RESTRICTED = {"rocksdb"}
# Files the check reads.
SOURCE_SUFFIXES = {".h", ".cc"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def cell_names(cell):
    """`a`, `b` -> [a, b]; "every module" -> ["*"]; "—" or "-" -> []."""
    if "every module" in cell:
        return ["*"]
    return re.findall(r"`([^`]+)`", cell)


def read_table():
    text = DOC.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, l in enumerate(text) if l.strip() == "## Dependencies")
    except StopIteration:
        sys.exit(f"{DOC}: no '## Dependencies' section")
    rows = {}
    header = None
    for line in text[start + 1:]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if len(cells) != len(header):
            print(f"{DOC}: dependency table row has {len(cells)} cells, expected {len(header)}: "
                  f"{line}")
            sys.exit(2)
        module = cell_names(cells[0])
        if len(module) != 1:
            print(f"{DOC}: first cell must name one module in backquotes: {line}")
            sys.exit(2)
        third_party = {}
        for token in re.findall(r"`([^`]+)`(\s*\(private\))?", cells[2]):
            third_party[token[0]] = bool(token[1])
        rows[module[0]] = {"deps": set(cell_names(cells[1])), "third_party": third_party}
    if not rows:
        print(f"{DOC}: the '## Dependencies' section has no table")
        sys.exit(2)
    for name, row in rows.items():
        for dep in row["deps"] - {"*"}:
            if dep not in rows:
                print(f"{DOC}: module {name} depends on {dep}, which has no row")
                sys.exit(2)
    return rows


def module_of(rel, modules):
    """The module owning a repo-relative path: the longest folder prefix (offsets/kafka/x.h is in
    offsets/kafka, not offsets)."""
    best = None
    for m in modules:
        if rel == m or rel.startswith(m + "/"):
            if best is None or len(m) > len(best):
                best = m
    return best


def main():
    rows = read_table()
    modules = sorted(rows)
    problems = []
    checked = 0
    for name in modules:
        folder = ROOT / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            rel = path.relative_to(ROOT).as_posix()
            owner = module_of(rel, modules)
            if owner != name:
                continue  # a nested module's file, checked under its own row
            row = rows[owner]
            public_header = path.suffix == ".h" and path.parent == ROOT / owner
            checked += 1
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if public_header:
                    code = line.split("//", 1)[0]
                    for lib, private in row["third_party"].items():
                        if private and re.search(rf"\b(namespace\s+{lib}\b|{lib}::)", code):
                            problems.append(f"{rel}:{lineno}: public header of {owner} names "
                                            f"{lib} types; {lib} is private to {owner} "
                                            f"(.cc files and detail/)")
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                where = f"{rel}:{lineno}"
                if kind == "<":
                    lib = target.split("/", 1)[0]
                    if lib not in RESTRICTED:
                        continue
                    if lib not in row["third_party"]:
                        problems.append(f"{where}: {owner} includes <{target}>, but "
                                        f"docs/architecture.md does not let {owner} use {lib}")
                    elif row["third_party"][lib] and public_header:
                        problems.append(f"{where}: public header of {owner} includes <{target}>; "
                                        f"{lib} is private to {owner} (.cc files and detail/)")
                    continue
                dep = module_of(target, modules)
                if dep is None:
                    continue  # same-folder or generated includes, not a module header
                if dep != owner and "/detail/" in "/" + target[len(dep):]:
                    problems.append(f"{where}: {owner} includes \"{target}\", a private header "
                                    f"(detail/) of {dep}")
                    continue
                if dep == owner or "*" in row["deps"] or dep in row["deps"]:
                    continue
                problems.append(f"{where}: {owner} includes \"{target}\", but "
                                f"docs/architecture.md does not let {owner} depend on {dep} "
                                f"(it may use: {', '.join(sorted(row['deps'])) or 'nothing'})")
    for p in problems:
        print(p)
    if problems:
        print(f"check-module-deps: {len(problems)} problem(s) at module boundaries "
              f"(table: docs/architecture.md, section Dependencies)")
        return 1
    print(f"check-module-deps: {checked} files of {len(rows)} modules within their boundaries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
