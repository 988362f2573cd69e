"""The README's Layout section names every module of the product, where it is.

The Layout is a tree in a code block: a line starting with ``name/`` opens a folder inside
the folder of the nearest line above it with less indentation; a ``name.py`` (or
``sub/path/name.py``) on a line is a module of the folder the line sits in. A module added
without its line, or a line left behind by a module that moved, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("caseowner", "cases", "commitments", "notifications", "reports")
FOLDER = re.compile(r"^([\w]+)/$")
MODULE = re.compile(r"(?<![\w/.])((?:[\w]+/)*[\w]+\.py)\b")


def layout_block(readme: str) -> str:
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def named_modules(block: str) -> set[str]:
    """The paths (from the repository root) of the modules the tree names."""
    folders: list[tuple[int, str]] = []  # (indentation, folder name), outermost first
    named: set[str] = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while folders and folders[-1][0] >= indent:
            folders.pop()
        first = line.split()[0]
        if FOLDER.match(first):
            folders.append((indent, first.rstrip("/")))
        where = "/".join(name for _, name in folders)
        for module in MODULE.findall(line):
            named.add(f"{where}/{module}" if where else module)
    return named


def product_modules() -> set[str]:
    found = set()
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if path.name == "__init__.py" or "migrations" in relative.parts:
                continue
            found.add(relative.as_posix())
    return found


def test_the_layout_reads_folders_by_indentation():
    block = """
cases/            the case
  services.py       writes
  customers/        the wing
    search.py         search
                      (continuation naming views.py of this wing)
  management/commands/flush.py  a command
reports/          figures
  sql.py            shared SQL
"""
    assert named_modules(block) == {
        "cases/services.py",
        "cases/customers/search.py",
        "cases/customers/views.py",
        "cases/management/commands/flush.py",
        "reports/sql.py",
    }


def test_every_module_of_the_product_is_named_in_the_readme_layout():
    named = named_modules(layout_block((ROOT / "README.md").read_text()))
    missing = sorted(product_modules() - named)
    assert not missing, f"README.md ## Layout does not name: {', '.join(missing)}"


def test_the_readme_layout_names_no_module_that_is_gone():
    named = named_modules(layout_block((ROOT / "README.md").read_text()))
    inside_product = {m for m in named if m.split("/", 1)[0] in PRODUCT}
    gone = sorted(inside_product - product_modules())
    assert not gone, f"README.md ## Layout names modules that do not exist: {', '.join(gone)}"
