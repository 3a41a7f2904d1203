"""pyrtap/_core.pyi agrees with the compiled pyrtap._core.

Type checkers and editors read the stub, never the Cython sources: a name added to,
removed from or renamed in the core without the stub would go unnoticed. Checked:

* the public names (modules imported by the core left aside) are the same in both;
* every private name the stub declares exists in the module;
* each class has the same bases and the same public members in both;
* functions and methods that expose a signature take parameters of the same names.

The stub is only parsed (``ast``), never imported. No TAP, no root, well under a second.
"""
from __future__ import annotations

import ast
import inspect
import types
from pathlib import Path

import pytest

from pyrtap import _core

STUB = Path(__file__).resolve().parent.parent / "pyrtap" / "_core.pyi"


def _is_type_alias(node: ast.stmt) -> bool:
    return isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) == "TypeAlias"


def _declared(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Names a stub module or class body declares (imports and type aliases left out)."""
    out: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.setdefault(node.name, node)     # an @overload or a property setter repeats it
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not _is_type_alias(node):
                out[node.target.id] = node
        elif isinstance(node, ast.Assign):
            out.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
    return out


STUB_NAMES = _declared(ast.parse(STUB.read_text(encoding="utf-8")).body)


def _public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def _stub_params(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    names += [p.arg for p in a.kwonlyargs]
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return names


def _runtime_params(obj) -> list[str] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):      # a C slot wrapper: nothing to compare
        return None
    prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [prefix.get(p.kind, "") + p.name for p in sig.parameters.values()]


def _check_params(where: str, fn: ast.FunctionDef, obj, problems: list[str]) -> None:
    if any(ast.unparse(d) in ("property", "overload") or ast.unparse(d).endswith(".setter")
           for d in fn.decorator_list):
        return
    runtime = _runtime_params(obj)
    if runtime is not None and runtime != _stub_params(fn):
        problems.append(f"{where}: stub parameters {_stub_params(fn)}, compiled {runtime}")


def test_the_stub_declares_every_public_name_and_no_other():
    compiled = _public(n for n in dir(_core) if not isinstance(getattr(_core, n), types.ModuleType))
    stub = _public(STUB_NAMES)
    assert not compiled - stub, f"add to pyrtap/_core.pyi: {sorted(compiled - stub)}"
    assert not stub - compiled, f"not in the compiled pyrtap._core: {sorted(stub - compiled)}"
    private = sorted(n for n in STUB_NAMES if n.startswith("_") and not hasattr(_core, n))
    assert not private, f"private names of the stub missing from pyrtap._core: {private}"


def test_the_stub_classes_match():
    problems: list[str] = []
    for name, node in STUB_NAMES.items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(_core, name)
        bases = [ast.unparse(b) for b in node.bases] or ["object"]
        if bases != [b.__name__ for b in cls.__bases__]:
            problems.append(f"{name}: stub bases {bases}, compiled {[b.__name__ for b in cls.__bases__]}")
        members = _declared(node.body)
        compiled = _public(vars(cls))
        if compiled != _public(members):
            problems.append(f"{name}: members only compiled {sorted(compiled - _public(members))}, "
                            f"only in the stub {sorted(_public(members) - compiled)}")
        for member, fn in members.items():
            if not hasattr(cls, member):
                problems.append(f"{name}.{member} is not in the compiled class")
            elif isinstance(fn, ast.FunctionDef) and not member.startswith("__"):
                _check_params(f"{name}.{member}", fn, getattr(cls, member), problems)
    assert not problems, "pyrtap/_core.pyi disagrees with pyrtap._core:\n  " + "\n  ".join(problems)


def test_the_stub_functions_take_the_same_parameters():
    problems: list[str] = []
    for name, node in STUB_NAMES.items():
        if isinstance(node, ast.FunctionDef):
            _check_params(name, node, getattr(_core, name), problems)
    assert not problems, "pyrtap/_core.pyi disagrees with pyrtap._core:\n  " + "\n  ".join(problems)


def test_the_stub_is_shipped():
    """The stub is package data (an installed pyrtap carries it)."""
    import tomllib
    with open(STUB.parent.parent / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["pyrtap"]
    if not any(Path("_core.pyi").match(p) for p in data):
        pytest.fail(f"pyproject.toml's package-data of pyrtap ({data}) leaves out _core.pyi")
