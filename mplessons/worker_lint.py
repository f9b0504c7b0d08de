"""What ``%%worker_module`` tells the student about a cell before the cell becomes a module.

A worker module is a file of its own, imported by the kernel and by every worker process: it sees only what it
defines or imports itself, never the notebook's other cells. Code written for a notebook or a script goes
wrong there in two quiet ways, which these notes name at once, before any pool runs:

* a name the cell uses but neither defines nor imports (``random`` imported in an earlier cell, a notebook
  variable ``FACTOR``): the module imports without complaint, and a worker fails with ``NameError`` only when
  it calls the function. pyflakes finds such names without running the code.
* an ``if __name__ == "__main__":`` block: the module is imported, so ``__name__`` is the module's name and
  the block never runs.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import types
from typing import Any

from pyflakes import checker, messages

from .i18n import tr

WELL_KNOWN_ALIASES = {"np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot", "mp": "multiprocessing"}


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, *test.comparators]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def main_blocks(tree: ast.Module) -> list[ast.If]:
    """The module-level ``if __name__ == "__main__":`` blocks."""
    return [node for node in tree.body if isinstance(node, ast.If) and _is_main_test(node.test)]


def undefined_names(tree: ast.Module, skip_lines: set[int] | frozenset[int] = frozenset()) -> list[str]:
    """Names the code uses but never defines or imports (builtins excluded), in order of first use.

    Uses on ``skip_lines`` do not count (the lines of a ``__main__`` block, which never runs in a module).
    """
    found: list[str] = []
    for message in checker.Checker(tree, filename="<cell>").messages:
        if isinstance(message, messages.UndefinedName) and message.lineno not in skip_lines:
            name = message.message_args[0]
            if name not in found:
                found.append(name)
    return found


def _module_name(name: str) -> bool:
    if name in sys.stdlib_module_names:
        return True
    try:
        return name.isidentifier() and importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import_for(name: str, value: Any) -> str | None:
    """The import statement that gives this module the notebook's ``name``, or None."""
    if isinstance(value, types.ModuleType):
        real = value.__name__
        return f"import {real}" if real == name else f"import {real} as {name}"
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or module in ("__main__", "builtins"):
        return None
    parts = module.split(".")
    for end in range(1, len(parts) + 1):  # the shortest public home first: multiprocessing, not .context
        owner = sys.modules.get(".".join(parts[:end]))
        if owner is not None and getattr(owner, name, None) is value:
            return f"from {owner.__name__} import {name}"
    return None


def advice(name: str, namespace: dict[str, Any] | None) -> str:
    """How to give the module ``name``: an import, or an argument, or a definition in the cell."""
    if namespace is not None and name in namespace:
        value = namespace[name]
        statement = _import_for(name, value)
        if statement:
            return tr("add `{statement}` to this cell", statement=statement)
        if isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == "__main__":
            return tr("`{name}` is defined in another notebook cell, which worker processes cannot import: define "
                      "it in this cell too, or in a %%worker_module cell of its own and import it from that module",
                      name=name)
    elif name in WELL_KNOWN_ALIASES and _module_name(WELL_KNOWN_ALIASES[name].split(".")[0]):
        statement = f"import {WELL_KNOWN_ALIASES[name]} as {name}"
        return tr("add `{statement}` to this cell", statement=statement)
    elif _module_name(name):
        statement = f"import {name}"
        return tr("add `{statement}` to this cell", statement=statement)
    return tr("worker modules do not see the notebook's variables: pass {name} as an argument or define it in the "
              "cell", name=name)


def notes(module: str, source: str, namespace: dict[str, Any] | None = None) -> list[str]:
    """What to tell the student about the cell that becomes ``module``: one line per note, maybe none.

    A cell that does not parse gets no notes: importing it reports the SyntaxError, with its line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    blocks = main_blocks(tree)
    block_lines = {line for block in blocks for line in range(block.lineno, (block.end_lineno or block.lineno) + 1)}
    found: list[str] = []
    names = undefined_names(tree, block_lines)
    if names:
        which = tr("a name") if len(names) == 1 else tr("names")
        found.append(tr("⚠ {module}.py uses {which} that this cell neither defines nor imports. A worker module "
                        "sees only its own cell, not the notebook's other cells, so calling its functions (in a "
                        "worker process or here) would stop with NameError:", module=module, which=which))
        found.extend(f"  • {name}: {advice(name, namespace)}" for name in names)
    for block in blocks:
        line = block.lineno + 1  # the cell's first line is the %%worker_module line
        found.append(tr("⚠ the `if __name__ == \"__main__\":` block (line {line} of the cell) does not run here: "
                        "the cell is imported as module {module}, so its __name__ is {module!r}. Put that code in "
                        "the next cell, a normal one, where it runs in the notebook.", line=line, module=module))
    return found
