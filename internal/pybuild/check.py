# Compiles Python files in memory and reports syntax errors as JSON lines.
# argv[1] is the project folder; stdin holds NUL-separated relative paths.
# Output: {"i": index, "line": n, "col": n, "msg": "..."} per error, then {"checked": n}.
# Imports nothing from the project and writes no bytecode.
import json
import os
import sys
import tokenize
import warnings


def where(data, pos):
    line = data.count(b"\n", 0, pos) + 1
    return line, pos - (data.rfind(b"\n", 0, pos) + 1) + 1


def cookie_line(data):
    lines = data.split(b"\n", 2)[:2]
    for n, text in enumerate(lines, 1):
        if b"coding" in text and text.lstrip().startswith(b"#"):
            return n
    return 1


def check(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return 0, 0, "cannot read the file: %s" % (e.strerror or e).lower()
    nul = data.find(b"\0")
    if nul >= 0:
        line, col = where(data, nul)
        return line, col, "source code cannot contain null bytes: remove the NUL byte (is it a binary file?)"
    lines = iter(data.splitlines(True))
    try:
        encoding, _ = tokenize.detect_encoding(lambda: next(lines, b""))
    except SyntaxError as e:
        return cookie_line(data), 0, "%s: fix the '# -*- coding: ... -*-' line" % e.msg
    try:
        src = data.decode(encoding)
    except UnicodeDecodeError as e:
        line, col = where(data, e.start)
        bad = data[e.start]
        if encoding in ("utf-8", "utf-8-sig"):
            return line, col, ("non-UTF-8 byte 0x%02x and no encoding declared: save the file as UTF-8 "
                               "or declare its encoding with a '# -*- coding: latin-1 -*-' line (PEP 263)" % bad)
        return line, col, "byte 0x%02x is not valid %s, the encoding the file declares" % (bad, encoding)
    if src.startswith("\ufeff"):
        src = src[1:]
    try:
        compile(src, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        line = e.lineno or 0
        col = e.offset or 0
        return max(line, 0), max(col, 0), e.msg or "invalid syntax"
    except (ValueError, MemoryError, RecursionError) as e:
        return 0, 0, "%s: %s" % (type(e).__name__, e)
    return None


def main():
    warnings.simplefilter("ignore")
    root = sys.argv[1]
    raw = sys.stdin.buffer.read()
    names = [n for n in raw.split(b"\0") if n] if raw else []
    out = sys.stdout
    for i, name in enumerate(names):
        err = check(os.path.join(root, os.fsdecode(name)))
        if err is not None:
            out.write(json.dumps({"i": i, "line": err[0], "col": err[1], "msg": err[2]}) + "\n")
    out.write(json.dumps({"checked": len(names)}) + "\n")
    out.flush()


main()
