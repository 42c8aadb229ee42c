#!/usr/bin/env python3
"""Shape check: no module under src/sedna over 500 lines (data generators
excepted) and no function over 60 lines. Prints offenders; exits 1 if any."""

import ast
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "sedna")
MAX_MODULE, MAX_FUNCTION = 500, 60
DATA_GENERATORS = {"examples/robo/datagen.py"}


def offenders(root=ROOT):
    found = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            lines = text.count("\n")
            if lines > MAX_MODULE and rel not in DATA_GENERATORS:
                found.append(f"{rel}: {lines} lines (max {MAX_MODULE})")
            for node in ast.walk(ast.parse(text, path)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > MAX_FUNCTION:
                        found.append(f"{rel}:{node.lineno}: function {node.name} is {n} lines (max {MAX_FUNCTION})")
    return found


if __name__ == "__main__":
    bad = offenders()
    print("\n".join(bad) or "shape: ok")
    sys.exit(1 if bad else 0)
