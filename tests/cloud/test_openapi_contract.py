"""The API's paths, methods, parameters and schemas are what tests/data/openapi/contract.json
records: a refactor may reword descriptions, nothing else (scripts/openapi_contract.py)."""

from __future__ import annotations

import json

from scripts.openapi_contract import SNAPSHOT, contract, without_prose


def _flat(node, path=""):
    """Every leaf of a JSON document as (path, value), for a readable difference."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _flat(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _flat(value, f"{path}/{index}")
    else:
        yield path, node


def _differences(recorded, current) -> str:
    recorded, current = dict(_flat(recorded)), dict(_flat(current))
    missing = sorted(set(recorded) - set(current))
    added = sorted(set(current) - set(recorded))
    changed = sorted(k for k in set(recorded) & set(current) if recorded[k] != current[k])
    if not (missing or added or changed):
        return ""
    return (
        f"{len(missing)} gone, {len(added)} new, {len(changed)} different; first of each: "
        f"{missing[:5]} {added[:5]} {[(k, recorded[k], current[k]) for k in changed[:5]]}"
    )


def test_openapi_document_matches_the_recorded_contract():
    difference = _differences(json.loads(SNAPSHOT.read_text()), contract())
    assert not difference, f"the API's contract changed: {difference}"


def test_the_comparison_sees_a_changed_schema_but_not_a_reworded_description():
    recorded = contract()
    current = json.loads(json.dumps(recorded))
    name = next(iter(current["components"]["schemas"]))
    current["components"]["schemas"][name]["x-new"] = 1
    assert "1 new" in _differences(recorded, current)
    assert contract() == without_prose({**recorded, "description": "reworded"})
