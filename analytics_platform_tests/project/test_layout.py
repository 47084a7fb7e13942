"""The package's layout stays the way a newcomer reads it: few modules at the top, no function
longer than a screen (the layers and the absence of import cycles: ``lint-imports``)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "analytics_platform"


def test_at_most_eight_modules_at_the_packages_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top


def test_no_function_is_longer_than_80_lines():
    long = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := node.end_lineno - node.lineno + 1) > 80
    ]
    assert not long, long
