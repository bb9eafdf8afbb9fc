"""What the bench imports from the app still exists: a moved module fails here, not mid-run."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("antrean", "bookings", "offices")


def _app_imports():
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(APP_PACKAGES):
                for alias in node.names:
                    yield pytest.param(node.module, alias.name, id=f"{path.name}:{alias.name}")


@pytest.mark.parametrize(("module", "name"), list(_app_imports()))
def test_the_bench_imports_what_the_app_has(module, name):
    assert hasattr(importlib.import_module(module), name)
