"""The gateway's check that a command, lease term or config comes from the cloud.

All three are signed with this device's key (protocols.contract.signing; the keys are in the
``[commands]`` section of edge.toml). Whoever can only publish on the broker, a leaked
broker account say, has no key, so cannot cut a pack's power by command nor by a forged
"not leased" term, nor silence it with a config of a day between reports and a version no
later config could top. ``allow_unsigned`` (a bench without a cloud key) lets unsigned
payloads through; a signature that is present is checked all the same.
"""

from __future__ import annotations

import logging

from edge_agent.config import CommandsConfig
from protocols.contract import NotSigned, signing

log = logging.getLogger(__name__)


class SignatureCheck:
    """``check(message)`` raises a SignatureError unless the message may be acted on."""

    def __init__(self, device_id: str, config: CommandsConfig) -> None:
        self.device_id = device_id
        self.config = config

    def announce(self) -> None:
        """Say at start what this gateway will accept."""
        if self.config.allow_unsigned:
            log.warning(
                "!!! commands.allow_unsigned is on: anyone who can publish on the broker can"
                " switch this pack's power. Bench use only. !!!"
            )
        elif not self.config.keys:
            log.warning(
                "no command keys in [commands] keys: every command, lease term and config"
                " will be refused (get the section with `voltrent cloud command-key %s`)",
                self.device_id,
            )
        else:
            log.info("command keys: %s", ", ".join(sorted(self.config.keys)))

    def check(self, message: signing.Signable) -> None:
        try:
            signing.verify(message, self.device_id, self.config.keys)
        except NotSigned:
            if not self.config.allow_unsigned:
                raise
