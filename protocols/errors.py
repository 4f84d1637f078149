"""One exception tree for every wire codec.

Each codec module subclasses these (``JbdChecksumError(JbdError, ChecksumError)``) so a
caller can catch one protocol's errors, or one kind of error across protocols. All of them
are ``ValueError``s: they are about bytes that do not mean what they should.
"""


class ProtocolError(ValueError):
    """Bytes or a payload that a codec cannot accept."""


class FrameError(ProtocolError):
    """A frame is malformed: wrong start or end byte, impossible length, truncated."""


class ChecksumError(FrameError):
    """A frame's checksum does not match its contents."""


class PayloadError(ProtocolError):
    """A decoded payload is not what the contract says (schema, type or range)."""


class UnknownMessageError(ProtocolError, KeyError):
    """An identifier (CAN id, register, sentence type) the codec does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
