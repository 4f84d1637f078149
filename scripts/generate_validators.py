"""Write protocols/contract/_validators.py: every contract schema's validator as Python code.

fastjsonschema compiles a schema by generating Python source and ``exec``-ing it; doing that
at run time costs the gateway ~8 MiB of RSS that it never gives back. So the code is
generated here, at development time, and committed. Run after editing any schemas/*.json:

    .venv/bin/python scripts/generate_validators.py

``--check`` exits 1 (and writes nothing) when the committed module is out of date.
tests/protocols/test_contract.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import fastjsonschema

from protocols.contract.schema import SCHEMA_NAMES, load_schema

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "protocols" / "contract" / "_validators.py"
COMMAND = ".venv/bin/python scripts/generate_validators.py"

# fastjsonschema's generated code imports its exceptions from the package root; the
# submodule says what the code really needs.
GENERATED_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
EXCEPTIONS_IMPORT = (
    "from fastjsonschema.exceptions import JsonSchemaValueException, JsonSchemaValuesException"
)
FUNCTIONS_START = "\nNoneType = type(None)\n"
REGEX_START = "REGEX_PATTERNS = "

HEADER = f'''\
# GENERATED FILE, DO NOT EDIT.
# Made by `{COMMAND}` from schemas/*.schema.json
# with fastjsonschema {fastjsonschema.VERSION}. Edit a schema, then run that command again;
# tests/protocols/test_contract.py fails while this file is out of date.
# fmt: off
# ruff: noqa
"""The contract's JSON Schema validators, precompiled by fastjsonschema.compile_to_code."""

import re
from decimal import Decimal

{EXCEPTIONS_IMPORT}

REGEX_PATTERNS = {{}}
NoneType = type(None)
'''


def _hoist_definitions(functions: str, definitions: dict[str, str]) -> str:
    """Replace each ``definition=<literal>`` of a raise with a shared module constant.

    fastjsonschema repeats the whole sub-schema as a dict literal at every raise site
    (the root schema at the root's, ...), which makes the module ~4x larger; compiling
    that source, where no .pyc is cached, is what costs memory. The exception still
    carries the same ``definition`` value.
    """
    segments = []
    for node in ast.walk(ast.parse(functions)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("JsonSchema"):
            segments.extend(k.value for k in node.keywords if k.arg == "definition")
    lines = functions.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    data = functions.encode()
    # Splice from the end so earlier offsets stay valid (ast offsets are UTF-8 bytes).
    for value in sorted(segments, key=lambda v: (v.lineno, v.col_offset), reverse=True):
        start = starts[value.lineno - 1] + value.col_offset
        end = starts[value.end_lineno - 1] + value.end_col_offset
        literal = data[start:end].decode()
        constant = definitions.setdefault(literal, f"DEFINITION_{len(definitions)}")
        data = data[:start] + constant.encode() + data[end:]
    return data.decode()


def _split(name: str) -> tuple[str, str, str]:
    """One schema's generated code as (regex dict source or "", functions, entry function)."""
    code = fastjsonschema.compile_to_code(load_schema(name))
    head, found, functions = code.partition(FUNCTIONS_START)
    if not found or GENERATED_IMPORT not in head:
        raise RuntimeError(
            f"{name}: fastjsonschema {fastjsonschema.VERSION} generated code of an unexpected"
            " shape; update scripts/generate_validators.py"
        )
    regexes = head.partition(REGEX_START)[2].strip()
    entry = functions.partition("def ")[2].partition("(")[0]
    return regexes, functions.strip(), entry


def render_module() -> str:
    """The full text of protocols/contract/_validators.py for the current schemas."""
    parts = []
    entries = {}
    definitions: dict[str, str] = {}
    for name in SCHEMA_NAMES:
        regexes, functions, entry = _split(name)
        parts.append(f"\n\n# ---- schemas/{name}.schema.json ----\n")
        if regexes:
            parts.append(f"REGEX_PATTERNS.update({regexes})\n\n")
        parts.append(_hoist_definitions(functions, definitions) + "\n")
        entries[name] = entry
    constants = "".join(f"{name} = {literal}\n" for literal, name in definitions.items())
    comment = "\n# The sub-schema each exception reports as its definition.\n"
    parts.insert(0, HEADER + comment + constants)
    parts.append("\n\nVALIDATORS = {\n")
    parts.extend(f"    {name!r}: {entry},\n" for name, entry in entries.items())
    parts.append("}\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write the module, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    text = render_module()
    current = TARGET.read_text("utf-8") if TARGET.exists() else ""
    if args.check:
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date; run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, "utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)} ({len(text):,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
