"""The fleet MQTT contract (version in ``version.py``): topics, typed payloads, the codec,
ack results and reason codes."""

from protocols.contract.acks import AckCode, AckResult, known_code
from protocols.contract.codec import (
    MAX_PAYLOAD_BYTES,
    Message,
    NotJson,
    PayloadTooLarge,
    channel_of,
    decode,
    encode,
)
from protocols.contract.payloads import (
    Ack,
    BmsSample,
    Command,
    DeviceConfig,
    Event,
    EventBatch,
    LeaseTerm,
    PositionSample,
    Sample,
    Status,
    TelemetryBatch,
    VehicleSample,
)
from protocols.contract.schema import SchemaViolation, validate
from protocols.contract.signing import (
    BadSignature,
    NotSigned,
    SignatureError,
    UnknownKey,
)
from protocols.contract.topics import (
    ROOT,
    UPLINK_FILTER,
    Channel,
    Topic,
    TopicError,
    check_device_id,
    device_downlink_filter,
)
from protocols.contract.version import CONTRACT_VERSION

__all__ = [
    "CONTRACT_VERSION",
    "MAX_PAYLOAD_BYTES",
    "ROOT",
    "UPLINK_FILTER",
    "Ack",
    "AckCode",
    "AckResult",
    "BadSignature",
    "BmsSample",
    "Channel",
    "Command",
    "DeviceConfig",
    "Event",
    "EventBatch",
    "LeaseTerm",
    "Message",
    "NotJson",
    "NotSigned",
    "PayloadTooLarge",
    "PositionSample",
    "Sample",
    "SchemaViolation",
    "SignatureError",
    "Status",
    "TelemetryBatch",
    "Topic",
    "TopicError",
    "UnknownKey",
    "VehicleSample",
    "channel_of",
    "check_device_id",
    "decode",
    "device_downlink_filter",
    "encode",
    "known_code",
    "validate",
]
