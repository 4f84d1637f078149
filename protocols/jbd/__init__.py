"""The JBD / Xiaoxiang BMS UART protocol, sans-IO: frames, registers, EEPROM parameters.

Typical host side::

    decoder = FrameDecoder(direction="response")
    port.write(basic_info_request().to_bytes())
    decoder.feed(port.read(64))
    response = decoder.next_frame()          # None: wait for more bytes
    info = BasicInfo.from_response(response)
"""

from protocols.jbd.describe import describe, register_name
from protocols.jbd.errors import (
    JbdChecksumError,
    JbdError,
    JbdFrameError,
    JbdPayloadError,
    JbdStatusError,
    JbdUnknownRegisterError,
)
from protocols.jbd.frame import (
    MAX_FRAME_SIZE,
    Direction,
    FrameDecoder,
    Mode,
    Request,
    Response,
    Status,
    checksum,
    parse_frame,
)
from protocols.jbd.parameters import (
    EXIT_AND_SAVE,
    EXIT_WITHOUT_SAVING,
    FACTORY_MODE_KEY,
    PARAMETERS,
    PARAMETERS_BY_REGISTER,
    Parameter,
    check_answer,
    decode_parameter_response,
    decode_parameter_write,
    enter_factory_mode_request,
    exit_factory_mode_request,
    get_parameter,
    parameter_at,
    parameter_read_request,
    parameter_write_request,
    read_parameters_requests,
    write_parameters_requests,
)
from protocols.jbd.payloads import BasicInfo, CellVoltages, HardwareVersion
from protocols.jbd.registers import (
    PROTECTION_NAMES,
    Register,
    basic_info_request,
    cell_voltages_request,
    decode_mosfet_control,
    hardware_version_request,
    mosfet_control_request,
    read_request,
)

__all__ = [
    "EXIT_AND_SAVE",
    "EXIT_WITHOUT_SAVING",
    "FACTORY_MODE_KEY",
    "MAX_FRAME_SIZE",
    "PARAMETERS",
    "PARAMETERS_BY_REGISTER",
    "PROTECTION_NAMES",
    "BasicInfo",
    "CellVoltages",
    "Direction",
    "FrameDecoder",
    "HardwareVersion",
    "JbdChecksumError",
    "JbdError",
    "JbdFrameError",
    "JbdPayloadError",
    "JbdStatusError",
    "JbdUnknownRegisterError",
    "Mode",
    "Parameter",
    "Register",
    "Request",
    "Response",
    "Status",
    "basic_info_request",
    "cell_voltages_request",
    "check_answer",
    "checksum",
    "decode_mosfet_control",
    "decode_parameter_response",
    "decode_parameter_write",
    "describe",
    "enter_factory_mode_request",
    "exit_factory_mode_request",
    "get_parameter",
    "hardware_version_request",
    "mosfet_control_request",
    "parameter_at",
    "parameter_read_request",
    "parameter_write_request",
    "parse_frame",
    "read_parameters_requests",
    "read_request",
    "register_name",
    "write_parameters_requests",
]
