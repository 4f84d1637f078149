"""A gateway box installs the edge part alone: `voltrent[edge]` pulls no cloud libraries."""

from importlib import metadata

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
