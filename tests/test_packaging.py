"""Packaging: a gateway box installs the edge part alone (`voltrent[edge]` pulls no cloud
libraries), and every library our code imports is declared for the part that imports it."""

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CLOUD_ONLY = {"flask", "flask-smorest", "psycopg", "psycopg-binary", "shapely", "sqlalchemy"}


def closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution `pip install name[extras]` brings, from the installed metadata."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, current_extras = todo.pop()
        key = canonicalize_name(current)
        if (key, current_extras) in seen:
            continue
        seen.add((key, current_extras))
        for line in metadata.distribution(current).requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in current_extras] or [{"extra": ""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}


def test_edge_extra_pulls_no_cloud_library():
    edge = closure("voltrent", frozenset({"edge"}))
    assert {"python-can", "pyserial", "aiomqtt", "cantools", "pynmea2"} <= edge
    assert not edge & CLOUD_ONLY, f"voltrent[edge] would install {edge & CLOUD_ONLY}"


# What each of our packages may import besides the standard library and our own packages:
# the distributions pyproject.toml declares in the core dependencies plus these extras.
ALLOWED_EXTRAS = {
    "protocols": (),
    "schemas": (),
    "edge_agent": ("edge",),
    "firmware_sim": ("sim",),
    "cloud": ("cloud",),
    "launcher": ("demo",),  # `voltrent` runs every part; it imports each one lazily
    "scripts": ("dev",),
    "benchmarks": ("dev",),
    "tests": ("dev",),
}
ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = set(ALLOWED_EXTRAS)


def declared(extras: tuple[str, ...]) -> set[str]:
    """The distributions pyproject.toml names for the core plus ``extras``, following
    ``voltrent[...]`` references to our own extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names: set[str] = set()
    todo, seen = [None, *extras], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        extra_lines = project["optional-dependencies"].get(extra, [])
        for line in project["dependencies"] if extra is None else extra_lines:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == "voltrent":
                todo.extend(requirement.extras)
            else:
                names.add(canonicalize_name(requirement.name))
    return names


def imported_modules(package: str) -> dict[str, str]:
    """Top-level modules that ``package``'s files import -> one file importing each; the
    standard library, our packages and sibling modules (benchmarks' helpers) left out."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                sibling = path.with_name(f"{top}.py").exists()
                if top in sys.stdlib_module_names or top in FIRST_PARTY or sibling:
                    continue
                found.setdefault(top, str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED_EXTRAS))
def test_every_imported_library_is_declared_for_its_part(package):
    """Code that imports a library its extra does not name works here only because another
    extra (or a library's own dependency) happened to bring it."""
    allowed = declared(ALLOWED_EXTRAS[package])
    owners = metadata.packages_distributions()
    missing = []
    for module, where in imported_modules(package).items():
        distributions = {canonicalize_name(d) for d in owners.get(module, [])}
        if not distributions & allowed:
            named = ", ".join(sorted(distributions)) or "no installed distribution"
            missing.append(f"{where} imports {module} ({named})")
    extras = " + ".join(("core", *ALLOWED_EXTRAS[package]))
    assert not missing, f"{package} may use {extras} only: " + "; ".join(missing)


def test_the_import_walk_finds_what_it_must():
    """The walk itself: a known import of each kind is seen, and a missing one is named."""
    assert {"cantools", "fastjsonschema", "pynmea2"} <= set(imported_modules("protocols"))
    assert "serial" in imported_modules("edge_agent")
    assert "psycopg" in imported_modules("cloud")
    assert "pyserial" in declared(("edge",)) and "pyserial" in declared(("sim",))
    assert "pyserial" not in declared(()) and "flask" not in declared(("edge",))
