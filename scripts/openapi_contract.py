"""The API's OpenAPI document without its prose: what a refactor must leave unchanged.

``python scripts/openapi_contract.py > tests/data/openapi/contract.json`` writes the
snapshot that tests/cloud/test_openapi_contract.py compares against. Only ``description``
and ``summary`` texts are dropped: paths, methods, parameters, request bodies, responses,
tags and component schemas all count. Rewrite the snapshot only for an intended API change,
and say so in CHANGELOG.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "openapi" / "contract.json"

PROSE = frozenset({"description", "summary"})


def without_prose(node: Any) -> Any:
    """``node`` with every description/summary text left out, keys sorted."""
    if isinstance(node, dict):
        return {
            key: without_prose(value)
            for key, value in sorted(node.items())
            if not (key in PROSE and isinstance(value, str))
        }
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    return node


def contract() -> dict[str, Any]:
    """The current app's document, without prose."""
    from tests.cloud.conformance_support import openapi_document

    return without_prose(openapi_document())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    json.dump(contract(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
