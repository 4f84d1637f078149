"""The layers of the code, read from its import graph (grimp, the graph import-linter uses).

- ``protocols`` imports nothing of ours;
- ``edge_agent``, ``cloud`` and ``firmware_sim`` never import each other (``launcher``, which
  composes them, may import all three);
- inside ``cloud``: no import cycle between its top-level packages and modules, no module
  imports another context's ``views``, modules outside ``views`` import no ``views`` (only
  ``cloud.app`` registers them), and ``cloud.http`` imports no context.

Imports that still break a rule until the per-context clean-up lands are listed in KNOWN,
each exactly (importer, imported); an entry that no longer occurs fails the test too, so the
list can only shrink.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import grimp
import pytest

OURS = ("protocols", "edge_agent", "firmware_sim", "cloud", "launcher")
APART = ("edge_agent", "cloud", "firmware_sim")
CONTEXTS = (
    "devices", "commands", "rules", "notify", "tenancy", "identity", "platform", "live",
)  # fmt: skip
# what cloud.http may import of the cloud: the shared kernel and the store
HTTP_MAY_IMPORT = (
    "cloud.http",
    "cloud.config",
    "cloud.errors",
    "cloud.mqtt_client",
    "cloud.store",
    "cloud.text",
)
# The one module of a context that is HTTP by nature, not domain code: it installs the access
# check every request goes through (before_request) and answers refusals itself.
HTTP_EDGE = ("cloud.identity.guard",)

KNOWN: dict[str, set[tuple[str, str]]] = {
    "cycle": set(),
    "views": set(),
    "plumbing": set(),
}


@functools.cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*OURS)


def imports() -> set[tuple[str, str]]:
    """Every direct import between two of our modules, as (importer, imported)."""
    g = graph()
    return {(m, i) for m in g.modules for i in g.find_modules_directly_imported_by(m)}


def top(module: str) -> str:
    return module.split(".")[0]


def unit(module: str) -> str:
    """The top-level package or module of the cloud that ``module`` belongs to."""
    return ".".join(module.split(".")[:2])


def context(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in CONTEXTS else None


def is_view(module: str) -> bool:
    return ".views" in module and context(module) is not None


def is_domain(module: str) -> bool:
    """A context's own code: neither its views, nor its request/response schemas (which are
    the HTTP contract), nor its HTTP edge."""
    return (
        context(module) is not None
        and not is_view(module)
        and ".schemas" not in module
        and module not in HTTP_EDGE
    )


def cycles(edges: set[tuple[str, str]]) -> list[set[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    succ: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted({a for a, _ in edges} | {b for _, b in edges}):
        if v not in index:
            visit(v)
    return found


def cycle_violations(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The imports that make the cloud's top-level units import each other in a circle."""
    cloud = {(a, b) for a, b in edges if top(a) == top(b) == "cloud" and unit(a) != unit(b)}
    components = cycles({(unit(a), unit(b)) for a, b in cloud})
    return {(a, b) for a, b in cloud if any({unit(a), unit(b)} <= c for c in components)}


def view_violations(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Another context's views imported, or views imported by a module that is no view."""
    return {
        (a, b)
        for a, b in edges
        if is_view(b) and a != "cloud.app" and (context(a) != context(b) or not is_view(a))
    }


def plumbing_violations(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Domain code importing the HTTP plumbing (it raises cloud.errors refusals instead)."""
    return {(a, b) for a, b in edges if is_domain(a) and unit(b) == "cloud.http"}


VIOLATIONS = {"cycle": cycle_violations, "views": view_violations, "plumbing": plumbing_violations}


def test_protocols_imports_nothing_of_ours():
    bad = {(a, b) for a, b in imports() if top(a) == "protocols" and top(b) != "protocols"}
    assert not bad


def test_edge_cloud_and_simulator_never_import_each_other():
    bad = {(a, b) for a, b in imports() if top(a) in APART and top(b) in APART and top(a) != top(b)}
    assert not bad


def test_the_cloud_has_no_import_cycle_between_its_parts():
    assert cycle_violations(imports() - KNOWN["cycle"]) == set()


def test_no_module_imports_another_contexts_views():
    assert view_violations(imports()) - KNOWN["views"] == set()


def test_domain_code_never_imports_the_http_plumbing():
    assert plumbing_violations(imports()) - KNOWN["plumbing"] == set()


def test_http_plumbing_imports_no_context():
    bad = {
        (a, b)
        for a, b in imports()
        if unit(a) == "cloud.http" and top(b) == "cloud" and not b.startswith(HTTP_MAY_IMPORT)
    }
    assert not bad


@pytest.mark.parametrize("rule", sorted(KNOWN))
def test_every_known_exception_still_occurs(rule):
    assert KNOWN[rule] - imports() == set(), "gone: remove it from KNOWN"
    assert KNOWN[rule] <= VIOLATIONS[rule](imports())  # and still breaks its rule


def test_the_checks_see_a_bad_import():
    """Each rule fails on an import it forbids, so a green run means something."""
    edges = imports()
    assert cycle_violations(edges | {("cloud.store.db", "cloud.worker")})
    assert view_violations(edges | {("cloud.rules.engine", "cloud.devices.views.devices")})
    assert view_violations(edges | {("cloud.devices.history", "cloud.devices.views.fleet")})
    assert plumbing_violations(edges | {("cloud.rules.alarms", "cloud.http.problems")})
    assert not plumbing_violations({("cloud.rules.schemas.alarms", "cloud.http.paging")})
