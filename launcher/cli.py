"""``voltrent``: the umbrella command line (decode, sim, watch, cloud, demo)."""

from __future__ import annotations

import argparse
import json
import sys
from types import ModuleType
from typing import Any

from protocols.errors import ProtocolError


def _decode(args: argparse.Namespace) -> dict[str, Any]:
    if args.protocol == "jbd":
        from protocols import jbd

        text = "".join(args.data).replace(":", "").replace(" ", "")
        try:
            frame = bytes.fromhex(text)
        except ValueError as err:
            raise ProtocolError(f"not hexadecimal: {err}") from None
        return jbd.describe(frame)
    if args.protocol == "nmea":
        from protocols import nmea

        return nmea.describe(" ".join(args.data))
    from protocols import canbus

    return canbus.describe(args.dbc, " ".join(args.data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voltrent", description="VoltRent fleet platform")
    commands = parser.add_subparsers(dest="command", required=True)

    decode = commands.add_parser(
        "decode", help="decode one frame or sentence and print its fields as JSON"
    )
    protocols = decode.add_subparsers(dest="protocol", required=True)
    jbd = protocols.add_parser("jbd", help="a JBD BMS frame in hex, e.g. DDA50300FFFD77")
    jbd.add_argument("data", nargs="+", help="hex bytes (spaces and colons allowed)")
    nmea = protocols.add_parser("nmea", help="one NMEA 0183 sentence, e.g. '$GNRMC,...*6A'")
    nmea.add_argument("data", nargs="+")
    can = protocols.add_parser("can", help="one CAN frame in candump form, e.g. 101#0C80...")
    can.add_argument("--dbc", default=None, help="DBC file (default: the bundled light-EV DBC)")
    can.add_argument("data", nargs="+")

    from launcher import sim, watch

    sim.add_parser(commands)
    watch.add_parser(commands)
    cloud_cli: ModuleType | None
    try:
        from cloud import cli as cloud_cli
    except ImportError:  # an edge-only install has no cloud
        cloud_cli = None
    if cloud_cli is not None:
        from launcher import demo

        cloud_cli.add_parser(commands)
        demo.add_parser(commands)

    args = parser.parse_args(argv)
    if args.command == "decode":
        try:
            print(json.dumps(_decode(args), indent=2, ensure_ascii=False))
        except (ProtocolError, OSError) as err:
            print(f"voltrent decode {args.protocol}: {err}", file=sys.stderr)
            return 1
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
