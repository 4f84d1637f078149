"""``voltrent-edge``: the gateway daemon's command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from edge_agent.config import AgentConfig, ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="voltrent-edge",
        description="VoltRent gateway daemon: BMS, GNSS and CAN to a durable outbox and MQTT.",
    )
    parser.add_argument("--config", "-c", required=True, help="the agent's TOML file")
    parser.add_argument(
        "--check", action="store_true", help="validate the configuration file and exit"
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: file)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"voltrent-edge: {err}", file=sys.stderr)
        return 2
    if args.check:
        sources = ", ".join(f"{s.name} ({s.type})" for s in config.sources) or "none"
        print(f"{args.config}: OK: device {config.device_id}, sources: {sources}")
        return 0
    logging.basicConfig(
        level=(args.log_level or config.log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(_run(config))


async def _run(config: AgentConfig) -> int:
    from edge_agent.agent import EdgeAgent

    agent = EdgeAgent(config)
    task = asyncio.current_task()
    assert task is not None  # asyncio.run() runs this as a task
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await agent.run()
    except asyncio.CancelledError:
        logging.getLogger("edge_agent").info("stopping")
    finally:
        agent.close()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
