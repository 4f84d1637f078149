"""The JBD codec's branch of the protocols.errors tree."""

from protocols.errors import (
    ChecksumError,
    FrameError,
    PayloadError,
    ProtocolError,
    UnknownMessageError,
)


class JbdError(ProtocolError):
    """Anything the JBD codec refuses."""


class JbdFrameError(JbdError, FrameError):
    """Bytes that are not a JBD frame: garbage, wrong start/end byte, truncated."""


class JbdChecksumError(JbdFrameError, ChecksumError):
    """A JBD frame whose checksum does not match its contents."""


class JbdPayloadError(JbdError, PayloadError):
    """A register's data that does not decode, or a value that does not encode."""


class JbdStatusError(JbdError):
    """The BMS answered with an error status (0x80) where data was expected."""


class JbdUnknownRegisterError(JbdError, UnknownMessageError):
    """A register or parameter name the codec does not know."""
