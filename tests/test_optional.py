from __future__ import annotations

import builtins
import sys

import pandas as pd
import pytest

import personas
from personas._optional import OPTIONAL_DEPENDENCIES, import_optional
from personas.errors import MissingDependencyError


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    monkeypatch.setitem(OPTIONAL_DEPENDENCIES, "no_such_module_xyz", ("nosuch", "serve"))
    with pytest.raises(MissingDependencyError, match=r"pip install 'personas\[serve\]'"):
        import_optional("no_such_module_xyz", purpose="to serve")
    with pytest.raises(ImportError):  # still an ImportError for code that expects one
        import_optional("no_such_module_xyz")


def test_unknown_optional_dependency_names_the_package():
    with pytest.raises(MissingDependencyError, match="pip install other_missing_pkg"):
        import_optional("other_missing_pkg")


def test_excel_without_openpyxl_names_the_excel_extra(tmp_path, monkeypatch):
    pytest.importorskip("openpyxl")
    path = tmp_path / "u.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(path, index=False)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] == "openpyxl":
            raise ImportError("No module named 'openpyxl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "openpyxl", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match=r"personas\[excel\]"):
        personas.read_table(path)


def test_public_namespace():
    for name in personas.__all__:
        assert hasattr(personas, name), name
    assert issubclass(personas.errors.SchemaError, ValueError)
