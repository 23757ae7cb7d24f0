"""The package's data flow runs one way: no module imports one of a higher layer — not at
the top, not inside a function, not for type checking alone.

Layers, from the bottom: the shared helpers and the synthetic data; reading and checking
tables (``io``); profiles of events; the clustering matrix and the clustering; the
interpretation of segments; the saved model; the renderers (``viz``, ``report``), which
draw plain data; the result objects that hold data and call the renderers; the pipeline
that runs the stages; the command line and the package's front door.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "personas"

LAYERS = [
    {
        "errors",
        "_version",
        "_optional",
        "_parallel",
        "_sklearn_compat",
        "_estimator",
        "_words",
        "_json",
        "_spread",
    },
    {"datasets"},
    {"io"},
    {"profiles"},
    {"preprocess", "cluster"},
    {"interpret"},
    {"model", "store"},
    {"viz", "report"},
    {"results"},
    {"pipeline"},
    {"serve"},
    {"cli", "__init__", "__main__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _part(module: str) -> str | None:
    """The top part of ``personas.x.y`` (``x``), or None for another package."""
    bits = module.split(".")
    if bits[0] != "personas":
        return None
    return bits[1] if len(bits) > 1 else "__init__"


def _imports(path: Path, package: str = "personas") -> list[tuple[int, str]]:
    """(line, module) of every import in the file, wherever it stands; relative imports
    are resolved from ``package`` (the file's package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from ..io import y
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base in ("personas", package) or not node.module:  # from personas import viz
                out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                out.append((node.lineno, base))
    return out


def _package(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = ["personas", *rel.parts]
    return ".".join(parts if rel.name == "__init__" else parts[:-1]).removesuffix(".__init__")


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _own_part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def test_every_module_has_a_layer():
    unknown = sorted({_own_part(p) for p in _modules()} - set(RANK))
    assert not unknown, f"modules without a layer in tests/test_layers.py: {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_higher_layer(path):
    own = _own_part(path)
    upward = []
    for line, module in _imports(path, _package(path)):
        part = _part(module)
        if part is not None and part in RANK and RANK[part] > RANK[own]:
            upward.append(f"line {line}: {module} (layer {RANK[part]} > {RANK[own]})")
    assert not upward, f"{path.relative_to(SRC)} imports upward: {upward}"


def test_the_stages_never_import_the_renderers_or_the_pipeline():
    """What the issue names: io, profiles, preprocess, cluster, interpret, datasets and
    model never import report, viz, results, pipeline or cli."""
    stages = {"io", "profiles", "preprocess", "cluster", "interpret", "datasets", "model"}
    above = {"report", "viz", "results", "pipeline", "cli"}
    found = [
        f"{path.relative_to(SRC)}:{line} {module}"
        for path in _modules()
        if _own_part(path) in stages
        for line, module in _imports(path, _package(path))
        if _part(module) in above
    ]
    assert not found


def test_the_layer_test_sees_imports_inside_functions_and_relative_ones(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from personas.pipeline import segment\n"
        "def f():\n    from personas import viz\n    import personas.report._render\n"
        "from ..report import render_eda\nfrom . import _dates\n"
    )
    assert sorted(m for _, m in _imports(sample, "personas.io") if _part(m)) == [
        "personas.io._dates",
        "personas.pipeline",
        "personas.report",
        "personas.report._render",
        "personas.viz",
    ]
    assert _part("personas.report") == "report"
    assert _package(SRC / "io" / "_dates.py") == "personas.io"
    assert _package(SRC / "io" / "__init__.py") == "personas.io"
    assert _package(SRC / "model.py") == "personas"
