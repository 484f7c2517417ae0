"""Run by Python 3.10: does student-facing code compile there, and does it use only 3.10's stdlib?

Usage: python3.10 py310_check.py FILE...  (.py files and .ipynb notebooks, whose code cells are
checked one by one). Prints one line per problem; exits 1 if there is any.
"""

import ast
import importlib
import json
import sys


def code_units(path):
    if path.endswith(".ipynb"):
        with open(path, encoding="utf-8") as fh:
            cells = json.load(fh)["cells"]
        for number, cell in enumerate(cells, 1):
            if cell.get("cell_type") == "code":
                source = cell["source"]
                yield f"{path} (cell {number})", "".join(source) if isinstance(source, list) else source
    else:
        with open(path, encoding="utf-8") as fh:
            yield path, fh.read()


def stdlib_problems(tree):
    """Imports of standard-library modules or names that Python 3.10 does not have."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            top = module.split(".")[0]
            if top == "__future__" or top not in sys.stdlib_module_names and top not in ("tomllib",):
                continue  # third-party (torch, numpy, ...) or a course module
            try:
                imported = importlib.import_module(module)
            except ImportError:
                yield node.lineno, f"`{module}` is not in Python 3.10's standard library"
                continue
            if name not in (None, "*") and not hasattr(imported, name):
                try:
                    importlib.import_module(f"{module}.{name}")
                except ImportError:
                    yield node.lineno, f"`{module}.{name}` does not exist in Python 3.10"


def main(paths):
    problems = 0
    for path in paths:
        for label, source in code_units(path):
            try:
                tree = ast.parse(compile(source, label, "exec", ast.PyCF_ONLY_AST))
            except SyntaxError as exc:
                print(f"{label}: line {exc.lineno}: Python 3.10 cannot compile it: {exc.msg}")
                problems += 1
                continue
            for line, message in stdlib_problems(tree):
                print(f"{label}: line {line}: {message}")
                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
