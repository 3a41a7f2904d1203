"""The documentation is the repository's own and covers the whole public API.

* No tracked file points at the API contract or the reference measurements kept
  outside the repository: users never see those files, so the docs/ pages must say
  everything (docs/api.md is the API reference, docs/benchmarks.md the figures).
* Every public name of the top-level package appears in a docs/*.md page, inside
  backticks, either literally or, for constants, through a family wildcard such as
  ``RTE_MBUF_F_*`` (a name belongs to a family when it starts with its prefix).
  Only upper-case prefixes count as families: a function or class is documented by
  name, so a new ``rte_eth_*`` call cannot slip through a wildcard.
* The package namespace is exactly its modules' ``__all__`` lists (each a literal list)
  plus the names ``pyrtap/__init__.py`` imports by name: no module's own imports leak.
* Each module logs on ``logging.getLogger(__name__)``, listed in docs/api.md.

The tests only read files and import pyrtap: no TAP, no root, well under a second.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Spelled in pieces so that this file, which is tracked too, does not contain them.
FORBIDDEN = ("shared/" + "API.md", "shared/" + "MEASUREMENTS.md", "../" + "shared")

# Names checked besides every rte_*/RTE_* name (and __all__, if the package has one).
CLASSES = ("Port", "PortError", "Mbuf", "MbufBurst", "Mempool")

# Wildcards this broad would document everything: not accepted as families.
TOO_BROAD = {"RTE", "RTE_"}


def _tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip("not a git checkout (%s)" % e)
    return [p for p in out.decode().split("\0") if p]


def test_no_reference_to_files_outside_the_repository():
    hits = []
    for rel in _tracked_files():
        path = ROOT / rel
        if not path.is_file():          # deleted in the work tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if not any(s in text for s in FORBIDDEN):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            found = [s for s in FORBIDDEN if s in line]
            if found:
                hits.append("  %s:%d: %s   [%s]" % (rel, lineno, line.strip()[:120], ", ".join(found)))
    if hits:
        pytest.fail("%d line(s) of tracked files refer to files outside the repository; point "
                    "them at the repository's own docs instead (docs/api.md for the API, "
                    "docs/benchmarks.md for the reference measurements):\n%s"
                    % (len(hits), "\n".join(hits)), pytrace=False)


def _code_spans(text: str) -> list[str]:
    """Inline code spans of a Markdown text, fenced code blocks left out."""
    text = re.sub(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", "", text, flags=re.M | re.S)
    return [m.group(2) for m in re.finditer(r"(`+)(.+?)\1", text, flags=re.S)]


def _documented() -> tuple[set[str], set[str], list[str]]:
    """(names in backticks, family prefixes written as PREFIX*, pages read)."""
    names, families, pages = set(), set(), []
    for page in sorted(DOCS.glob("*.md")):
        pages.append(page.relative_to(ROOT).as_posix())
        for span in _code_spans(page.read_text(encoding="utf-8")):
            for ident, star in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(\*?)", span):
                if star:
                    if ident.isupper() and ident not in TOO_BROAD:
                        families.add(ident)
                else:
                    names.add(ident)
    return names, families, pages


def _public_names() -> set[str]:
    import pyrtap
    public = {n for n in dir(pyrtap) if n.startswith(("rte_", "RTE_"))}
    public |= set(getattr(pyrtap, "__all__", ()))
    public |= set(CLASSES)
    return public


def test_every_public_name_is_documented():
    names, families, pages = _documented()
    assert pages and (DOCS / "api.md").is_file(), "docs/api.md is missing"
    undocumented = sorted(n for n in _public_names()
                          if n not in names and not any(n.startswith(f) for f in families))
    if undocumented:
        pytest.fail("%d public name(s) of pyrtap appear in no docs/*.md page (%s), neither in "
                    "backticks nor through a family wildcard such as `RTE_MBUF_F_*`; document "
                    "them in docs/api.md:\n  %s"
                    % (len(undocumented), ", ".join(pages), "\n  ".join(undocumented)),
                    pytrace=False)


def test_every_module_logger_is_documented():
    """Each pure-Python module that logs does so on its own logger,
    ``logging.getLogger(__name__)``, and docs/api.md's logger table names it (rtelog's
    ``pyrtap.<TYPE>`` loggers are documented as a family)."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    seen = []
    for path in sorted((ROOT / "pyrtap").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "getLogger"):
                continue
            if module == "pyrtap.rtelog":
                continue
            assert [ast.unparse(a) for a in node.args] == ["__name__"], \
                f"{module}:{node.lineno}: log on logging.getLogger(__name__), not {ast.unparse(node)}"
            assert f"| `{module}` |" in text, f"docs/api.md's logger table lacks `{module}`"
            seen.append(module)
    assert "pyrtap.ethdev_api" in seen, seen


def test_the_docs_lead_to_the_api_reference():
    for page in ("README.md", "docs/index.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert re.search(r"\]\((\./)?(docs/)?api\.md(#[^)]*)?\)", text), \
            "%s does not link to the API reference (docs/api.md)" % page


def _package_imports() -> tuple[list[str], set[str]]:
    """(modules pyrtap/__init__.py star-imports, names it imports one by one)."""
    tree = ast.parse((ROOT / "pyrtap" / "__init__.py").read_text(encoding="utf-8"))
    star, named = [], set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if [a.name for a in node.names] == ["*"]:
                star.append(node.module)
            else:
                named |= {a.asname or a.name for a in node.names}
    return star, named


def _all_statements(module: types.ModuleType) -> list[ast.stmt]:
    tree = ast.parse(inspect.getsource(module))
    return [n for n in tree.body
            if isinstance(n, (ast.Assign, ast.AugAssign))
            and "__all__" in [t.id for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                              if isinstance(t, ast.Name)]]


def test_star_imported_modules_have_an_explicit_all():
    """Each module pyrtap star-imports spells its ``__all__`` as a literal list (optionally
    extended by another module's ``__all__``), the forms static analysers follow, and
    exports only names it has, none of them a module, none twice."""
    star, _ = _package_imports()
    assert star, "pyrtap/__init__.py star-imports no module"
    for name in star:
        module = importlib.import_module("pyrtap." + name)
        stmts = _all_statements(module)
        assert stmts and isinstance(stmts[0], ast.Assign), f"pyrtap.{name} has no __all__ = [...]"
        first = stmts[0].value
        assert isinstance(first, ast.List) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in first.elts), \
            f"pyrtap.{name}.__all__ is not a literal list of strings"
        for extra in stmts[1:]:
            assert isinstance(extra, ast.AugAssign) and isinstance(extra.value, ast.Attribute) \
                and extra.value.attr == "__all__", \
                f"pyrtap.{name}: __all__ changed other than by += x.__all__"
        exported = module.__all__
        assert len(exported) == len(set(exported)), f"pyrtap.{name}.__all__ has duplicates"
        missing = [n for n in exported if not hasattr(module, n)]
        assert not missing, f"pyrtap.{name}.__all__ names what it lacks: {missing}"
        modules = [n for n in exported if isinstance(getattr(module, n), types.ModuleType)]
        assert not modules, f"pyrtap.{name}.__all__ exports modules: {modules}"


def test_public_surface_has_no_stray_names():
    """``import pyrtap as rte`` exposes the API, not the modules' own imports, and the
    version is pyproject.toml's."""
    import pyrtap
    stray = {"np", "os", "errno", "log", "logging", "operator", "annotations", "sys", "struct"}
    assert not stray & set(dir(pyrtap)), sorted(stray & set(dir(pyrtap)))
    # Exactly the modules' __all__ and the names imported one by one, besides submodules.
    star, named = _package_imports()
    exported = set(named)
    for name in star:
        exported |= set(importlib.import_module("pyrtap." + name).__all__)
    public = {n for n in dir(pyrtap)
              if not n.startswith("_") and not isinstance(getattr(pyrtap, n), types.ModuleType)}
    assert public == exported, ("not exported by any module's __all__: %s; exported but absent: %s"
                                % (sorted(public - exported), sorted(exported - public)))
    # Every rte_*/RTE_* name a module defines or re-exports reaches the package.
    for name in star:
        module = importlib.import_module("pyrtap." + name)
        left_out = sorted(n for n in dir(module) if n.startswith(("rte_", "RTE_")) and n not in public)
        assert not left_out, f"pyrtap.{name} has API names missing from every __all__: {left_out}"
    with open(ROOT / "pyproject.toml") as f:
        declared = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M).group(1)
    assert pyrtap.__version__ == declared
