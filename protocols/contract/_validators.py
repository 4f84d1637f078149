# GENERATED FILE, DO NOT EDIT.
# Made by `.venv/bin/python scripts/generate_validators.py` from schemas/*.schema.json
# with fastjsonschema 2.22.3. Edit a schema, then run that command again;
# tests/protocols/test_contract.py fails while this file is out of date.
# fmt: off
# ruff: noqa
"""The contract's JSON Schema validators, precompiled by fastjsonschema.compile_to_code."""

import re
from decimal import Decimal

from fastjsonschema.exceptions import JsonSchemaValueException, JsonSchemaValuesException

REGEX_PATTERNS = {}
NoneType = type(None)

# The sub-schema each exception reports as its definition.
DEFINITION_0 = {'type': 'object', 'additionalProperties': False, 'description': 'One reading of the battery management system.', 'required': ['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'bms'}, 'pack_voltage_v': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}, 'current_a': {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}, 'soc_percent': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}, 'remaining_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}, 'full_capacity_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}, 'cycles': {'type': 'integer', 'minimum': 0, 'maximum': 65535}, 'cell_voltages_v': {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}, 'temperatures_c': {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}, 'charge_mos': {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}, 'discharge_mos': {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}, 'protection': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}, 'balancing': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}}}
DEFINITION_1 = {'type': 'integer', 'minimum': 1, 'maximum': 64}
DEFINITION_2 = {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}
DEFINITION_3 = {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}
DEFINITION_4 = {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}
DEFINITION_5 = {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}
DEFINITION_6 = {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}
DEFINITION_7 = {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}
DEFINITION_8 = {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}
DEFINITION_9 = {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}
DEFINITION_10 = {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}
DEFINITION_11 = {'type': 'integer', 'minimum': 0, 'maximum': 65535}
DEFINITION_12 = {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}
DEFINITION_13 = {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}
DEFINITION_14 = {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}
DEFINITION_15 = {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}
DEFINITION_16 = {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}
DEFINITION_17 = {'const': 'bms'}
DEFINITION_18 = {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}
DEFINITION_19 = {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}
DEFINITION_20 = {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}
DEFINITION_21 = {'type': 'object', 'additionalProperties': False, 'description': 'One GNSS fix.', 'required': ['seq', 'ts', 'type', 'lat', 'lon', 'valid'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'position'}, 'lat': {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}, 'lon': {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}, 'valid': {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}, 'speed_kmh': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}, 'course_deg': {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}, 'altitude_m': {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}, 'hdop': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}, 'satellites': {'type': 'integer', 'minimum': 0, 'maximum': 128}}}
DEFINITION_22 = {'type': 'integer', 'minimum': 0, 'maximum': 128}
DEFINITION_23 = {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}
DEFINITION_24 = {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}
DEFINITION_25 = {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}
DEFINITION_26 = {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}
DEFINITION_27 = {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}
DEFINITION_28 = {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}
DEFINITION_29 = {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}
DEFINITION_30 = {'const': 'position'}
DEFINITION_31 = {'type': 'object', 'additionalProperties': False, 'description': "Vehicle CAN signals decoded with the device's DBC: the latest value of each signal at ts.", 'required': ['seq', 'ts', 'type', 'signals'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'vehicle'}, 'signals': {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}}}
DEFINITION_32 = {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}
DEFINITION_33 = {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}
DEFINITION_34 = {'type': 'number'}
DEFINITION_35 = {'const': 'vehicle'}
DEFINITION_36 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/telemetry.schema.json', 'title': 'up/telemetry: a batch of samples', 'description': "Published by a device on vr/v1/{device_id}/up/telemetry, QoS 1, not retained. The payload is this JSON object in UTF-8, or the same JSON compressed as a zlib stream (RFC 1950; its first byte is 0x78, which JSON never starts with). Receivers inflate at most 1 MiB. Samples are ordered by seq. Compression: a zlib stream (RFC 1950) starts with 0x78. Senders deflate with the preset dictionary schemas/zlib-dictionary-v1.json, so the header's FDICT bit (0x20 of the second byte) is set and bytes 2-5 hold the dictionary's Adler-32, big-endian (0x77C1253D for v1); a receiver inflates with the dictionary of that id and rejects an id it does not have. Streams without FDICT (older devices) are inflated without a dictionary. Nothing may follow the end of the stream. See schemas/README.md.", 'type': 'object', 'additionalProperties': False, 'required': ['samples'], 'properties': {'samples': {'type': 'array', 'minItems': 1, 'maxItems': 5000, 'items': {'type': 'object', 'required': ['type'], 'properties': {'type': {'enum': ['bms', 'position', 'vehicle']}}, 'allOf': [{'if': {'properties': {'type': {'const': 'bms'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One reading of the battery management system.', 'required': ['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'bms'}, 'pack_voltage_v': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}, 'current_a': {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}, 'soc_percent': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}, 'remaining_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}, 'full_capacity_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}, 'cycles': {'type': 'integer', 'minimum': 0, 'maximum': 65535}, 'cell_voltages_v': {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}, 'temperatures_c': {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}, 'charge_mos': {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}, 'discharge_mos': {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}, 'protection': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}, 'balancing': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}}}}, {'if': {'properties': {'type': {'const': 'position'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One GNSS fix.', 'required': ['seq', 'ts', 'type', 'lat', 'lon', 'valid'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'position'}, 'lat': {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}, 'lon': {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}, 'valid': {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}, 'speed_kmh': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}, 'course_deg': {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}, 'altitude_m': {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}, 'hdop': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}, 'satellites': {'type': 'integer', 'minimum': 0, 'maximum': 128}}}}, {'if': {'properties': {'type': {'const': 'vehicle'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': "Vehicle CAN signals decoded with the device's DBC: the latest value of each signal at ts.", 'required': ['seq', 'ts', 'type', 'signals'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'vehicle'}, 'signals': {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}}}}]}}}, '$defs': {'bms': {'type': 'object', 'additionalProperties': False, 'description': 'One reading of the battery management system.', 'required': ['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'bms'}, 'pack_voltage_v': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}, 'current_a': {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}, 'soc_percent': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}, 'remaining_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}, 'full_capacity_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}, 'cycles': {'type': 'integer', 'minimum': 0, 'maximum': 65535}, 'cell_voltages_v': {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}, 'temperatures_c': {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}, 'charge_mos': {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}, 'discharge_mos': {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}, 'protection': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}, 'balancing': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}}}, 'position': {'type': 'object', 'additionalProperties': False, 'description': 'One GNSS fix.', 'required': ['seq', 'ts', 'type', 'lat', 'lon', 'valid'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'position'}, 'lat': {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}, 'lon': {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}, 'valid': {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}, 'speed_kmh': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}, 'course_deg': {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}, 'altitude_m': {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}, 'hdop': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}, 'satellites': {'type': 'integer', 'minimum': 0, 'maximum': 128}}}, 'vehicle': {'type': 'object', 'additionalProperties': False, 'description': "Vehicle CAN signals decoded with the device's DBC: the latest value of each signal at ts.", 'required': ['seq', 'ts', 'type', 'signals'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'vehicle'}, 'signals': {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}}}}}
DEFINITION_37 = {'enum': ['bms', 'position', 'vehicle']}
DEFINITION_38 = {'type': 'object', 'required': ['type'], 'properties': {'type': {'enum': ['bms', 'position', 'vehicle']}}, 'allOf': [{'if': {'properties': {'type': {'const': 'bms'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One reading of the battery management system.', 'required': ['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'bms'}, 'pack_voltage_v': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}, 'current_a': {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}, 'soc_percent': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}, 'remaining_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}, 'full_capacity_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}, 'cycles': {'type': 'integer', 'minimum': 0, 'maximum': 65535}, 'cell_voltages_v': {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}, 'temperatures_c': {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}, 'charge_mos': {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}, 'discharge_mos': {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}, 'protection': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}, 'balancing': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}}}}, {'if': {'properties': {'type': {'const': 'position'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One GNSS fix.', 'required': ['seq', 'ts', 'type', 'lat', 'lon', 'valid'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'position'}, 'lat': {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}, 'lon': {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}, 'valid': {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}, 'speed_kmh': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}, 'course_deg': {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}, 'altitude_m': {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}, 'hdop': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}, 'satellites': {'type': 'integer', 'minimum': 0, 'maximum': 128}}}}, {'if': {'properties': {'type': {'const': 'vehicle'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': "Vehicle CAN signals decoded with the device's DBC: the latest value of each signal at ts.", 'required': ['seq', 'ts', 'type', 'signals'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'vehicle'}, 'signals': {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}}}}]}
DEFINITION_39 = {'type': 'array', 'minItems': 1, 'maxItems': 5000, 'items': {'type': 'object', 'required': ['type'], 'properties': {'type': {'enum': ['bms', 'position', 'vehicle']}}, 'allOf': [{'if': {'properties': {'type': {'const': 'bms'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One reading of the battery management system.', 'required': ['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'bms'}, 'pack_voltage_v': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Pack voltage, V.'}, 'current_a': {'type': 'number', 'minimum': -2000, 'maximum': 2000, 'description': 'Pack current, A; positive = charging.'}, 'soc_percent': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Relative state of charge reported by the BMS, %.'}, 'remaining_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Remaining capacity, Ah.'}, 'full_capacity_ah': {'type': 'number', 'minimum': 0, 'maximum': 10000, 'description': 'Full-charge (nominal) capacity, Ah.'}, 'cycles': {'type': 'integer', 'minimum': 0, 'maximum': 65535}, 'cell_voltages_v': {'type': 'array', 'maxItems': 64, 'items': {'type': 'number', 'minimum': 0, 'maximum': 6, 'description': 'Cell voltage, V, cell 1 first.'}}, 'temperatures_c': {'type': 'array', 'maxItems': 16, 'items': {'type': 'number', 'minimum': -60, 'maximum': 200, 'description': 'NTC temperature, degrees C.'}}, 'charge_mos': {'type': 'boolean', 'description': 'Charge MOSFET conducting.'}, 'discharge_mos': {'type': 'boolean', 'description': 'Discharge MOSFET conducting.'}, 'protection': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'description': 'Active BMS protections by name (cell_over_voltage, ..., short_circuit). Absent means none.'}, 'balancing': {'type': 'array', 'uniqueItems': True, 'items': {'type': 'integer', 'minimum': 1, 'maximum': 64}, 'description': 'Cells (1-based) being balanced. Absent means none.'}}}}, {'if': {'properties': {'type': {'const': 'position'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': 'One GNSS fix.', 'required': ['seq', 'ts', 'type', 'lat', 'lon', 'valid'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'position'}, 'lat': {'type': 'number', 'minimum': -90, 'maximum': 90, 'description': 'Latitude, WGS-84 decimal degrees.'}, 'lon': {'type': 'number', 'minimum': -180, 'maximum': 180, 'description': 'Longitude, WGS-84 decimal degrees.'}, 'valid': {'type': 'boolean', 'description': 'The receiver reported a valid fix.'}, 'speed_kmh': {'type': 'number', 'minimum': 0, 'maximum': 1000, 'description': 'Speed over ground, km/h.'}, 'course_deg': {'type': 'number', 'minimum': 0, 'maximum': 360, 'description': 'Course over ground, degrees from true north.'}, 'altitude_m': {'type': 'number', 'minimum': -1000, 'maximum': 20000, 'description': 'Altitude above mean sea level, m.'}, 'hdop': {'type': 'number', 'minimum': 0, 'maximum': 100, 'description': 'Horizontal dilution of precision.'}, 'satellites': {'type': 'integer', 'minimum': 0, 'maximum': 128}}}}, {'if': {'properties': {'type': {'const': 'vehicle'}}}, 'then': {'type': 'object', 'additionalProperties': False, 'description': "Vehicle CAN signals decoded with the device's DBC: the latest value of each signal at ts.", 'required': ['seq', 'ts', 'type', 'signals'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'const': 'vehicle'}, 'signals': {'type': 'object', 'maxProperties': 512, 'propertyNames': {'pattern': '^[A-Za-z_][A-Za-z0-9_]{0,127}$'}, 'additionalProperties': {'type': 'number'}}}}}]}}
DEFINITION_40 = {'type': 'object', 'additionalProperties': False, 'required': ['seq', 'ts', 'type'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'severity': {'enum': ['info', 'warning', 'critical']}, 'detail': {'type': 'object', 'maxProperties': 64}}}
DEFINITION_41 = {'type': 'object', 'maxProperties': 64}
DEFINITION_42 = {'enum': ['info', 'warning', 'critical']}
DEFINITION_43 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/event.schema.json', 'title': 'up/event: device-side events', 'description': "Published on vr/v1/{device_id}/up/event, QoS 1, not retained; plain JSON or zlib-compressed JSON as for telemetry (receivers inflate at most 1 MiB). Known types: boot, bms_protection (detail.protection: names now active, detail.cleared: names cleared), mosfet_changed, local_cutoff, vibration, tamper, source_fault (detail.source, detail.error), outbox_corrupt (detail.path, detail.reason), outbox_overflow (detail.kind, detail.dropped), clock_unsynchronised, cutoff_waiting (detail.source command|lease, detail.cmd_id for a command, detail.speed_kmh, detail.current_a, detail.waited_s), lease_cutoff and lease_restored (detail.lease_version, detail.leased_until, detail.grace_s, detail.charge_mos, detail.discharge_mos), low_soc (detail.soc_percent, detail.alarm_percent), downlink_rejected (detail.channel, detail.reason, detail.bytes, detail.refused: the total refused for that reason so far). Receivers keep unknown types. Compression: a zlib stream (RFC 1950) starts with 0x78. Senders deflate with the preset dictionary schemas/zlib-dictionary-v1.json, so the header's FDICT bit (0x20 of the second byte) is set and bytes 2-5 hold the dictionary's Adler-32, big-endian (0x77C1253D for v1); a receiver inflates with the dictionary of that id and rejects an id it does not have. Streams without FDICT (older devices) are inflated without a dictionary. Nothing may follow the end of the stream. See schemas/README.md.", 'type': 'object', 'additionalProperties': False, 'required': ['events'], 'properties': {'events': {'type': 'array', 'minItems': 1, 'maxItems': 5000, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['seq', 'ts', 'type'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'severity': {'enum': ['info', 'warning', 'critical']}, 'detail': {'type': 'object', 'maxProperties': 64}}}}}, '$defs': {'event': {'type': 'object', 'additionalProperties': False, 'required': ['seq', 'ts', 'type'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'severity': {'enum': ['info', 'warning', 'critical']}, 'detail': {'type': 'object', 'maxProperties': 64}}}}}
DEFINITION_44 = {'type': 'array', 'minItems': 1, 'maxItems': 5000, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['seq', 'ts', 'type'], 'properties': {'seq': {'type': 'integer', 'minimum': 0, 'maximum': 9007199254740991, 'description': 'Per-device counter shared by samples and events; never goes back, also across reboots.'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'resent': {'type': 'boolean', 'description': "True when the sample is sent late from the device's backlog (GB/T 32960 0x03 reissue): it is history, never the live state. Absent means false."}, 'type': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'severity': {'enum': ['info', 'warning', 'critical']}, 'detail': {'type': 'object', 'maxProperties': 64}}}}
DEFINITION_45 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/ack.schema.json', 'title': 'up/ack: the result of one command', 'description': 'Published once per cmd_id on vr/v1/{device_id}/up/ack, QoS 1. Every result but done says why: in reason (text for people) and, since contract 1.1, in code (a word for programs). Receivers decide from code and fall back to reason only when code is absent (gateways before 1.1); they keep a code they do not know.', 'type': 'object', 'additionalProperties': False, 'required': ['cmd_id', 'ts', 'result'], 'properties': {'cmd_id': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'result': {'enum': ['done', 'failed', 'rejected', 'expired']}, 'reason': {'type': 'string', 'maxLength': 500}, 'code': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$', 'description': 'The reason as a machine-readable code (contract 1.1; protocols/contract/acks.py). rejected: not_signed, bad_signature, unknown_key, invalid_command, clock_untrusted, not_leased, no_bms, not_supported. expired: expired. failed: not_standing_still, state_not_reached, parameter_not_taken, bms_error, no_fix, internal_error. Other codes may come from newer gateways.'}, 'observed': {'type': 'object', 'maxProperties': 64, 'description': 'State read back from the hardware after executing, e.g. {"discharge_mos": false}.'}}}
DEFINITION_46 = {'type': 'object', 'maxProperties': 64, 'description': 'State read back from the hardware after executing, e.g. {"discharge_mos": false}.'}
DEFINITION_47 = {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$', 'description': 'The reason as a machine-readable code (contract 1.1; protocols/contract/acks.py). rejected: not_signed, bad_signature, unknown_key, invalid_command, clock_untrusted, not_leased, no_bms, not_supported. expired: expired. failed: not_standing_still, state_not_reached, parameter_not_taken, bms_error, no_fix, internal_error. Other codes may come from newer gateways.'}
DEFINITION_48 = {'type': 'string', 'maxLength': 500}
DEFINITION_49 = {'enum': ['done', 'failed', 'rejected', 'expired']}
DEFINITION_50 = {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$'}
DEFINITION_51 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/status.schema.json', 'title': 'up/status: is the device online (retained)', 'description': 'Published retained on vr/v1/{device_id}/up/status at connect and periodically; the MQTT will publishes {"online": false}.', 'type': 'object', 'additionalProperties': False, 'required': ['online'], 'properties': {'online': {'type': 'boolean'}, 'ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'agent_version': {'type': 'string', 'maxLength': 64}, 'boot_id': {'type': 'string', 'maxLength': 64}, 'uptime_s': {'type': 'number', 'minimum': 0}, 'outbox': {'type': 'object', 'additionalProperties': False, 'properties': {'records': {'type': 'integer', 'minimum': 0}, 'bytes': {'type': 'integer', 'minimum': 0}, 'oldest_ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'dropped_telemetry': {'type': 'integer', 'minimum': 0}, 'dropped_events': {'type': 'integer', 'minimum': 0}}}, 'sources': {'type': 'object', 'maxProperties': 32, 'description': 'Per source (bms, gnss, can, ...): its state and error counters.', 'additionalProperties': {'type': 'object', 'additionalProperties': False, 'required': ['state'], 'properties': {'state': {'enum': ['starting', 'ok', 'reconnecting', 'failed', 'disabled']}, 'readings': {'type': 'integer', 'minimum': 0}, 'errors': {'type': 'object', 'maxProperties': 32, 'additionalProperties': {'type': 'integer', 'minimum': 0}, 'description': 'Counters by error kind: checksum, frame, timeout, garbage_bytes, disconnect, ...'}, 'last_error': {'type': 'string', 'maxLength': 300}}}}, 'counters': {'type': 'object', 'maxProperties': 64, 'additionalProperties': {'type': 'integer', 'minimum': 0}}}}
DEFINITION_52 = {'type': 'integer', 'minimum': 0}
DEFINITION_53 = {'type': 'object', 'maxProperties': 64, 'additionalProperties': {'type': 'integer', 'minimum': 0}}
DEFINITION_54 = {'type': 'object', 'additionalProperties': False, 'required': ['state'], 'properties': {'state': {'enum': ['starting', 'ok', 'reconnecting', 'failed', 'disabled']}, 'readings': {'type': 'integer', 'minimum': 0}, 'errors': {'type': 'object', 'maxProperties': 32, 'additionalProperties': {'type': 'integer', 'minimum': 0}, 'description': 'Counters by error kind: checksum, frame, timeout, garbage_bytes, disconnect, ...'}, 'last_error': {'type': 'string', 'maxLength': 300}}}
DEFINITION_55 = {'type': 'string', 'maxLength': 300}
DEFINITION_56 = {'type': 'object', 'maxProperties': 32, 'additionalProperties': {'type': 'integer', 'minimum': 0}, 'description': 'Counters by error kind: checksum, frame, timeout, garbage_bytes, disconnect, ...'}
DEFINITION_57 = {'enum': ['starting', 'ok', 'reconnecting', 'failed', 'disabled']}
DEFINITION_58 = {'type': 'object', 'maxProperties': 32, 'description': 'Per source (bms, gnss, can, ...): its state and error counters.', 'additionalProperties': {'type': 'object', 'additionalProperties': False, 'required': ['state'], 'properties': {'state': {'enum': ['starting', 'ok', 'reconnecting', 'failed', 'disabled']}, 'readings': {'type': 'integer', 'minimum': 0}, 'errors': {'type': 'object', 'maxProperties': 32, 'additionalProperties': {'type': 'integer', 'minimum': 0}, 'description': 'Counters by error kind: checksum, frame, timeout, garbage_bytes, disconnect, ...'}, 'last_error': {'type': 'string', 'maxLength': 300}}}}
DEFINITION_59 = {'type': 'object', 'additionalProperties': False, 'properties': {'records': {'type': 'integer', 'minimum': 0}, 'bytes': {'type': 'integer', 'minimum': 0}, 'oldest_ts': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'dropped_telemetry': {'type': 'integer', 'minimum': 0}, 'dropped_events': {'type': 'integer', 'minimum': 0}}}
DEFINITION_60 = {'type': 'number', 'minimum': 0}
DEFINITION_61 = {'type': 'string', 'maxLength': 64}
DEFINITION_62 = {'type': 'boolean'}
DEFINITION_63 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/cmd.schema.json', 'title': 'down/cmd: one command for one device', 'description': "Published by the cloud on vr/v1/{device_id}/down/cmd, QoS 1, not retained. The device refuses an expired command and acks every cmd_id exactly once. It carries sig, the cloud's signature, which the device checks before anything else.", 'type': 'object', 'additionalProperties': False, 'required': ['cmd_id', 'type', 'args', 'issued_at', 'expires_at'], 'properties': {'cmd_id': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$'}, 'type': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]{0,63}$'}, 'args': {'type': 'object', 'maxProperties': 64}, 'issued_at': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'expires_at': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'sig': {'type': 'object', 'additionalProperties': False, 'required': ['kid', 'mac'], 'description': "Proof of origin: HMAC-SHA256 with the device's key over the canonical form of every other field plus v and device_id (protocols/contract/signing.py). A device rejects an unsigned or badly signed payload.", 'properties': {'kid': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$', 'description': "Key id: '<first 8 hex digits of sha256(master)>.<generation>'."}, 'mac': {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{43}$', 'description': 'The 32-byte MAC, base64url without padding.'}}}}}
DEFINITION_64 = {'type': 'object', 'additionalProperties': False, 'required': ['kid', 'mac'], 'description': "Proof of origin: HMAC-SHA256 with the device's key over the canonical form of every other field plus v and device_id (protocols/contract/signing.py). A device rejects an unsigned or badly signed payload.", 'properties': {'kid': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$', 'description': "Key id: '<first 8 hex digits of sha256(master)>.<generation>'."}, 'mac': {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{43}$', 'description': 'The 32-byte MAC, base64url without padding.'}}}
DEFINITION_65 = {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{43}$', 'description': 'The 32-byte MAC, base64url without padding.'}
DEFINITION_66 = {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$', 'description': "Key id: '<first 8 hex digits of sha256(master)>.<generation>'."}
DEFINITION_67 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/lease.schema.json', 'title': 'down/lease: the lease term the device enforces (retained)', 'description': 'Published retained by the cloud on vr/v1/{device_id}/down/lease, signed like a command (sig); a device ignores an unsigned or badly signed term and one older than the term it holds.', 'type': 'object', 'additionalProperties': False, 'required': ['version', 'leased', 'cutoff_when_not_leased', 'issued_at'], 'properties': {'version': {'type': 'integer', 'minimum': 0, 'description': 'Grows with every change; a device ignores a term older than the one it holds.'}, 'leased': {'type': 'boolean'}, 'leased_until': {'oneOf': [{'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, {'type': 'null'}], 'description': 'End of the paid term, epoch ms; null = open-ended.'}, 'grace_s': {'type': 'integer', 'minimum': 0, 'maximum': 31536000}, 'cutoff_when_not_leased': {'type': 'boolean'}, 'issued_at': {'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, 'lease_id': {'type': 'string', 'maxLength': 64}, 'sig': {'type': 'object', 'additionalProperties': False, 'required': ['kid', 'mac'], 'description': "Proof of origin: HMAC-SHA256 with the device's key over the canonical form of every other field plus v and device_id (protocols/contract/signing.py). A device rejects an unsigned or badly signed payload.", 'properties': {'kid': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$', 'description': "Key id: '<first 8 hex digits of sha256(master)>.<generation>'."}, 'mac': {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{43}$', 'description': 'The 32-byte MAC, base64url without padding.'}}}}}
DEFINITION_68 = {'type': 'integer', 'minimum': 0, 'maximum': 31536000}
DEFINITION_69 = {'oneOf': [{'type': 'integer', 'minimum': 0, 'maximum': 32503680000000, 'description': 'Device time, Unix epoch milliseconds UTC.'}, {'type': 'null'}], 'description': 'End of the paid term, epoch ms; null = open-ended.'}
DEFINITION_70 = {'type': 'null'}
DEFINITION_71 = {'type': 'integer', 'minimum': 0, 'description': 'Grows with every change; a device ignores a term older than the one it holds.'}
DEFINITION_72 = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://voltrent.dev/schemas/v1/config.schema.json', 'title': 'down/config: reporting intervals and thresholds (retained)', 'description': 'Published retained by the cloud on vr/v1/{device_id}/down/config, signed like a command (sig); a device ignores an unsigned or badly signed config, and only a signed one may raise the version it holds.', 'type': 'object', 'additionalProperties': False, 'required': ['version'], 'properties': {'version': {'type': 'integer', 'minimum': 0, 'description': 'Grows with every change; a device ignores a config whose version is not above the one it applied.'}, 'report_interval_s': {'type': 'number', 'minimum': 1, 'maximum': 86400, 'description': 'How often a sample of each source is recorded.'}, 'upload_interval_s': {'type': 'number', 'minimum': 0, 'maximum': 86400, 'description': 'How often recorded samples are published as one batch; 0 = as soon as recorded.'}, 'status_interval_s': {'type': 'number', 'minimum': 10, 'maximum': 86400}, 'thresholds': {'type': 'object', 'maxProperties': 64, 'additionalProperties': {'type': 'number'}}, 'sig': {'type': 'object', 'additionalProperties': False, 'required': ['kid', 'mac'], 'description': "Proof of origin: HMAC-SHA256 with the device's key over the canonical form of every other field plus v and device_id (protocols/contract/signing.py). A device rejects an unsigned or badly signed payload.", 'properties': {'kid': {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]{1,64}$', 'description': "Key id: '<first 8 hex digits of sha256(master)>.<generation>'."}, 'mac': {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{43}$', 'description': 'The 32-byte MAC, base64url without padding.'}}}}}
DEFINITION_73 = {'type': 'object', 'maxProperties': 64, 'additionalProperties': {'type': 'number'}}
DEFINITION_74 = {'type': 'number', 'minimum': 10, 'maximum': 86400}
DEFINITION_75 = {'type': 'number', 'minimum': 0, 'maximum': 86400, 'description': 'How often recorded samples are published as one batch; 0 = as soon as recorded.'}
DEFINITION_76 = {'type': 'number', 'minimum': 1, 'maximum': 86400, 'description': 'How often a sample of each source is recorded.'}
DEFINITION_77 = {'type': 'integer', 'minimum': 0, 'description': 'Grows with every change; a device ignores a config whose version is not above the one it applied.'}


# ---- schemas/telemetry.schema.json ----
REGEX_PATTERNS.update({
    '^[A-Za-z_][A-Za-z0-9_]{0,127}$': re.compile('^[A-Za-z_][A-Za-z0-9_]{0,127}\\Z'),
    '^[a-z][a-z0-9_]{0,63}$': re.compile('^[a-z][a-z0-9_]{0,63}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_telemetry_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_36, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['samples']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_36, rule='required')
        data_keys = set(data.keys())
        if "samples" in data_keys:
            data_keys.remove("samples")
            data__samples = data["samples"]
            if not isinstance(data__samples, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must be array", value=data__samples, name="" + (name_prefix or "data") + ".samples", definition=DEFINITION_39, rule='type')
            data__samples_is_list = isinstance(data__samples, (list, tuple))
            if data__samples_is_list:
                data__samples_len = len(data__samples)
                if data__samples_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must contain at least 1 items", value=data__samples, name="" + (name_prefix or "data") + ".samples", definition=DEFINITION_39, rule='minItems')
                if data__samples_len > 5000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must contain less than or equal to 5000 items", value=data__samples, name="" + (name_prefix or "data") + ".samples", definition=DEFINITION_39, rule='maxItems')
                for data__samples_x, data__samples_item in enumerate(data__samples):
                    if not isinstance(data__samples_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()) + " must be object", value=data__samples_item, name="" + (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()) + "", definition=DEFINITION_38, rule='type')
                    try:
                        data__samples_item_is_dict = isinstance(data__samples_item, dict)
                        if data__samples_item_is_dict:
                            data__samples_item_keys = set(data__samples_item.keys())
                            if "type" in data__samples_item_keys:
                                data__samples_item_keys.remove("type")
                                data__samples_item__type = data__samples_item["type"]
                                if not (isinstance(data__samples_item__type, str) and data__samples_item__type == 'bms'):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + " must be same as const definition: bms", value=data__samples_item__type, name="" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + "", definition=DEFINITION_17, rule='const')
                    except (JsonSchemaValueException, JsonSchemaValuesException):
                        pass
                    else:
                        validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_bms(data__samples_item, custom_formats, (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()))
                    try:
                        data__samples_item_is_dict = isinstance(data__samples_item, dict)
                        if data__samples_item_is_dict:
                            data__samples_item_keys = set(data__samples_item.keys())
                            if "type" in data__samples_item_keys:
                                data__samples_item_keys.remove("type")
                                data__samples_item__type = data__samples_item["type"]
                                if not (isinstance(data__samples_item__type, str) and data__samples_item__type == 'position'):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + " must be same as const definition: position", value=data__samples_item__type, name="" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + "", definition=DEFINITION_30, rule='const')
                    except (JsonSchemaValueException, JsonSchemaValuesException):
                        pass
                    else:
                        validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_position(data__samples_item, custom_formats, (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()))
                    try:
                        data__samples_item_is_dict = isinstance(data__samples_item, dict)
                        if data__samples_item_is_dict:
                            data__samples_item_keys = set(data__samples_item.keys())
                            if "type" in data__samples_item_keys:
                                data__samples_item_keys.remove("type")
                                data__samples_item__type = data__samples_item["type"]
                                if not (isinstance(data__samples_item__type, str) and data__samples_item__type == 'vehicle'):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + " must be same as const definition: vehicle", value=data__samples_item__type, name="" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + "", definition=DEFINITION_35, rule='const')
                    except (JsonSchemaValueException, JsonSchemaValuesException):
                        pass
                    else:
                        validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_vehicle(data__samples_item, custom_formats, (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()))
                    data__samples_item_is_dict = isinstance(data__samples_item, dict)
                    if data__samples_item_is_dict:
                        data__samples_item__missing_keys = set(['type']) - data__samples_item.keys()
                        if data__samples_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()) + " must contain " + (str(sorted(data__samples_item__missing_keys)) + " properties"), value=data__samples_item, name="" + (name_prefix or "data") + ".samples[{data__samples_x}]".format(**locals()) + "", definition=DEFINITION_38, rule='required')
                        data__samples_item_keys = set(data__samples_item.keys())
                        if "type" in data__samples_item_keys:
                            data__samples_item_keys.remove("type")
                            data__samples_item__type = data__samples_item["type"]
                            if not (isinstance(data__samples_item__type, str) and data__samples_item__type == 'bms' or isinstance(data__samples_item__type, str) and data__samples_item__type == 'position' or isinstance(data__samples_item__type, str) and data__samples_item__type == 'vehicle'):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + " must be one of ['bms', 'position', 'vehicle']", value=data__samples_item__type, name="" + (name_prefix or "data") + ".samples[{data__samples_x}].type".format(**locals()) + "", definition=DEFINITION_37, rule='enum')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_36, rule='additionalProperties')
    return data

def validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_vehicle(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_31, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['seq', 'ts', 'type', 'signals']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_31, rule='required')
        data_keys = set(data.keys())
        if "seq" in data_keys:
            data_keys.remove("seq")
            data__seq = data["seq"]
            if not isinstance(data__seq, (int)) and not (isinstance(data__seq, float) and data__seq.is_integer()) or isinstance(data__seq, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be integer", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='type')
            if isinstance(data__seq, (int, float, Decimal)) and not isinstance(data__seq, bool):
                if data__seq < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be bigger than or equal to 0", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='minimum')
                if data__seq > 9007199254740991:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be smaller than or equal to 9007199254740991", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='maximum')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "resent" in data_keys:
            data_keys.remove("resent")
            data__resent = data["resent"]
            if not isinstance(data__resent, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".resent must be boolean", value=data__resent, name="" + (name_prefix or "data") + ".resent", definition=DEFINITION_18, rule='type')
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'vehicle'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be same as const definition: vehicle", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_35, rule='const')
        if "signals" in data_keys:
            data_keys.remove("signals")
            data__signals = data["signals"]
            if not isinstance(data__signals, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".signals must be object", value=data__signals, name="" + (name_prefix or "data") + ".signals", definition=DEFINITION_32, rule='type')
            data__signals_is_dict = isinstance(data__signals, dict)
            if data__signals_is_dict:
                data__signals_len = len(data__signals)
                if data__signals_len > 512:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".signals must contain less than or equal to 512 properties", value=data__signals, name="" + (name_prefix or "data") + ".signals", definition=DEFINITION_32, rule='maxProperties')
                data__signals_keys = set(data__signals.keys())
                for data__signals_key in data__signals_keys:
                    if data__signals_key not in []:
                        data__signals_value = data__signals.get(data__signals_key)
                        if not isinstance(data__signals_value, (int, float, Decimal)) or isinstance(data__signals_value, bool):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".signals.{data__signals_key}".format(**locals()) + " must be number", value=data__signals_value, name="" + (name_prefix or "data") + ".signals.{data__signals_key}".format(**locals()) + "", definition=DEFINITION_34, rule='type')
                if data__signals_len != 0:
                    data__signals_property_names = True
                    for data__signals_key in data__signals:
                        try:
                            if isinstance(data__signals_key, str):
                                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]{0,127}$'].search(data__signals_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".signals must match pattern ^[A-Za-z_][A-Za-z0-9_]{0,127}$", value=data__signals_key, name="" + (name_prefix or "data") + ".signals", definition=DEFINITION_33, rule='pattern')
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__signals_property_names = False
                    if not data__signals_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".signals must be named by propertyName definition", value=data__signals, name="" + (name_prefix or "data") + ".signals", definition=DEFINITION_32, rule='propertyNames')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_31, rule='additionalProperties')
    return data

def validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_position(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_21, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['seq', 'ts', 'type', 'lat', 'lon', 'valid']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_21, rule='required')
        data_keys = set(data.keys())
        if "seq" in data_keys:
            data_keys.remove("seq")
            data__seq = data["seq"]
            if not isinstance(data__seq, (int)) and not (isinstance(data__seq, float) and data__seq.is_integer()) or isinstance(data__seq, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be integer", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='type')
            if isinstance(data__seq, (int, float, Decimal)) and not isinstance(data__seq, bool):
                if data__seq < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be bigger than or equal to 0", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='minimum')
                if data__seq > 9007199254740991:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be smaller than or equal to 9007199254740991", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='maximum')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "resent" in data_keys:
            data_keys.remove("resent")
            data__resent = data["resent"]
            if not isinstance(data__resent, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".resent must be boolean", value=data__resent, name="" + (name_prefix or "data") + ".resent", definition=DEFINITION_18, rule='type')
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'position'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be same as const definition: position", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_30, rule='const')
        if "lat" in data_keys:
            data_keys.remove("lat")
            data__lat = data["lat"]
            if not isinstance(data__lat, (int, float, Decimal)) or isinstance(data__lat, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lat must be number", value=data__lat, name="" + (name_prefix or "data") + ".lat", definition=DEFINITION_29, rule='type')
            if isinstance(data__lat, (int, float, Decimal)) and not isinstance(data__lat, bool):
                if data__lat < -90:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lat must be bigger than or equal to -90", value=data__lat, name="" + (name_prefix or "data") + ".lat", definition=DEFINITION_29, rule='minimum')
                if data__lat > 90:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lat must be smaller than or equal to 90", value=data__lat, name="" + (name_prefix or "data") + ".lat", definition=DEFINITION_29, rule='maximum')
        if "lon" in data_keys:
            data_keys.remove("lon")
            data__lon = data["lon"]
            if not isinstance(data__lon, (int, float, Decimal)) or isinstance(data__lon, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lon must be number", value=data__lon, name="" + (name_prefix or "data") + ".lon", definition=DEFINITION_28, rule='type')
            if isinstance(data__lon, (int, float, Decimal)) and not isinstance(data__lon, bool):
                if data__lon < -180:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lon must be bigger than or equal to -180", value=data__lon, name="" + (name_prefix or "data") + ".lon", definition=DEFINITION_28, rule='minimum')
                if data__lon > 180:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lon must be smaller than or equal to 180", value=data__lon, name="" + (name_prefix or "data") + ".lon", definition=DEFINITION_28, rule='maximum')
        if "valid" in data_keys:
            data_keys.remove("valid")
            data__valid = data["valid"]
            if not isinstance(data__valid, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".valid must be boolean", value=data__valid, name="" + (name_prefix or "data") + ".valid", definition=DEFINITION_27, rule='type')
        if "speed_kmh" in data_keys:
            data_keys.remove("speed_kmh")
            data__speedkmh = data["speed_kmh"]
            if not isinstance(data__speedkmh, (int, float, Decimal)) or isinstance(data__speedkmh, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".speed_kmh must be number", value=data__speedkmh, name="" + (name_prefix or "data") + ".speed_kmh", definition=DEFINITION_26, rule='type')
            if isinstance(data__speedkmh, (int, float, Decimal)) and not isinstance(data__speedkmh, bool):
                if data__speedkmh < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".speed_kmh must be bigger than or equal to 0", value=data__speedkmh, name="" + (name_prefix or "data") + ".speed_kmh", definition=DEFINITION_26, rule='minimum')
                if data__speedkmh > 1000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".speed_kmh must be smaller than or equal to 1000", value=data__speedkmh, name="" + (name_prefix or "data") + ".speed_kmh", definition=DEFINITION_26, rule='maximum')
        if "course_deg" in data_keys:
            data_keys.remove("course_deg")
            data__coursedeg = data["course_deg"]
            if not isinstance(data__coursedeg, (int, float, Decimal)) or isinstance(data__coursedeg, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".course_deg must be number", value=data__coursedeg, name="" + (name_prefix or "data") + ".course_deg", definition=DEFINITION_25, rule='type')
            if isinstance(data__coursedeg, (int, float, Decimal)) and not isinstance(data__coursedeg, bool):
                if data__coursedeg < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".course_deg must be bigger than or equal to 0", value=data__coursedeg, name="" + (name_prefix or "data") + ".course_deg", definition=DEFINITION_25, rule='minimum')
                if data__coursedeg > 360:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".course_deg must be smaller than or equal to 360", value=data__coursedeg, name="" + (name_prefix or "data") + ".course_deg", definition=DEFINITION_25, rule='maximum')
        if "altitude_m" in data_keys:
            data_keys.remove("altitude_m")
            data__altitudem = data["altitude_m"]
            if not isinstance(data__altitudem, (int, float, Decimal)) or isinstance(data__altitudem, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".altitude_m must be number", value=data__altitudem, name="" + (name_prefix or "data") + ".altitude_m", definition=DEFINITION_24, rule='type')
            if isinstance(data__altitudem, (int, float, Decimal)) and not isinstance(data__altitudem, bool):
                if data__altitudem < -1000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".altitude_m must be bigger than or equal to -1000", value=data__altitudem, name="" + (name_prefix or "data") + ".altitude_m", definition=DEFINITION_24, rule='minimum')
                if data__altitudem > 20000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".altitude_m must be smaller than or equal to 20000", value=data__altitudem, name="" + (name_prefix or "data") + ".altitude_m", definition=DEFINITION_24, rule='maximum')
        if "hdop" in data_keys:
            data_keys.remove("hdop")
            data__hdop = data["hdop"]
            if not isinstance(data__hdop, (int, float, Decimal)) or isinstance(data__hdop, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".hdop must be number", value=data__hdop, name="" + (name_prefix or "data") + ".hdop", definition=DEFINITION_23, rule='type')
            if isinstance(data__hdop, (int, float, Decimal)) and not isinstance(data__hdop, bool):
                if data__hdop < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".hdop must be bigger than or equal to 0", value=data__hdop, name="" + (name_prefix or "data") + ".hdop", definition=DEFINITION_23, rule='minimum')
                if data__hdop > 100:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".hdop must be smaller than or equal to 100", value=data__hdop, name="" + (name_prefix or "data") + ".hdop", definition=DEFINITION_23, rule='maximum')
        if "satellites" in data_keys:
            data_keys.remove("satellites")
            data__satellites = data["satellites"]
            if not isinstance(data__satellites, (int)) and not (isinstance(data__satellites, float) and data__satellites.is_integer()) or isinstance(data__satellites, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".satellites must be integer", value=data__satellites, name="" + (name_prefix or "data") + ".satellites", definition=DEFINITION_22, rule='type')
            if isinstance(data__satellites, (int, float, Decimal)) and not isinstance(data__satellites, bool):
                if data__satellites < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".satellites must be bigger than or equal to 0", value=data__satellites, name="" + (name_prefix or "data") + ".satellites", definition=DEFINITION_22, rule='minimum')
                if data__satellites > 128:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".satellites must be smaller than or equal to 128", value=data__satellites, name="" + (name_prefix or "data") + ".satellites", definition=DEFINITION_22, rule='maximum')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_21, rule='additionalProperties')
    return data

def validate_https___voltrent_dev_schemas_v1_telemetry_schema_json___defs_bms(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_0, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['seq', 'ts', 'type', 'pack_voltage_v', 'current_a', 'soc_percent', 'cell_voltages_v', 'temperatures_c', 'charge_mos', 'discharge_mos']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_0, rule='required')
        data_keys = set(data.keys())
        if "seq" in data_keys:
            data_keys.remove("seq")
            data__seq = data["seq"]
            if not isinstance(data__seq, (int)) and not (isinstance(data__seq, float) and data__seq.is_integer()) or isinstance(data__seq, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be integer", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='type')
            if isinstance(data__seq, (int, float, Decimal)) and not isinstance(data__seq, bool):
                if data__seq < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be bigger than or equal to 0", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='minimum')
                if data__seq > 9007199254740991:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be smaller than or equal to 9007199254740991", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='maximum')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "resent" in data_keys:
            data_keys.remove("resent")
            data__resent = data["resent"]
            if not isinstance(data__resent, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".resent must be boolean", value=data__resent, name="" + (name_prefix or "data") + ".resent", definition=DEFINITION_18, rule='type')
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'bms'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be same as const definition: bms", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_17, rule='const')
        if "pack_voltage_v" in data_keys:
            data_keys.remove("pack_voltage_v")
            data__packvoltagev = data["pack_voltage_v"]
            if not isinstance(data__packvoltagev, (int, float, Decimal)) or isinstance(data__packvoltagev, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".pack_voltage_v must be number", value=data__packvoltagev, name="" + (name_prefix or "data") + ".pack_voltage_v", definition=DEFINITION_16, rule='type')
            if isinstance(data__packvoltagev, (int, float, Decimal)) and not isinstance(data__packvoltagev, bool):
                if data__packvoltagev < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".pack_voltage_v must be bigger than or equal to 0", value=data__packvoltagev, name="" + (name_prefix or "data") + ".pack_voltage_v", definition=DEFINITION_16, rule='minimum')
                if data__packvoltagev > 1000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".pack_voltage_v must be smaller than or equal to 1000", value=data__packvoltagev, name="" + (name_prefix or "data") + ".pack_voltage_v", definition=DEFINITION_16, rule='maximum')
        if "current_a" in data_keys:
            data_keys.remove("current_a")
            data__currenta = data["current_a"]
            if not isinstance(data__currenta, (int, float, Decimal)) or isinstance(data__currenta, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".current_a must be number", value=data__currenta, name="" + (name_prefix or "data") + ".current_a", definition=DEFINITION_15, rule='type')
            if isinstance(data__currenta, (int, float, Decimal)) and not isinstance(data__currenta, bool):
                if data__currenta < -2000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".current_a must be bigger than or equal to -2000", value=data__currenta, name="" + (name_prefix or "data") + ".current_a", definition=DEFINITION_15, rule='minimum')
                if data__currenta > 2000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".current_a must be smaller than or equal to 2000", value=data__currenta, name="" + (name_prefix or "data") + ".current_a", definition=DEFINITION_15, rule='maximum')
        if "soc_percent" in data_keys:
            data_keys.remove("soc_percent")
            data__socpercent = data["soc_percent"]
            if not isinstance(data__socpercent, (int, float, Decimal)) or isinstance(data__socpercent, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".soc_percent must be number", value=data__socpercent, name="" + (name_prefix or "data") + ".soc_percent", definition=DEFINITION_14, rule='type')
            if isinstance(data__socpercent, (int, float, Decimal)) and not isinstance(data__socpercent, bool):
                if data__socpercent < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".soc_percent must be bigger than or equal to 0", value=data__socpercent, name="" + (name_prefix or "data") + ".soc_percent", definition=DEFINITION_14, rule='minimum')
                if data__socpercent > 100:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".soc_percent must be smaller than or equal to 100", value=data__socpercent, name="" + (name_prefix or "data") + ".soc_percent", definition=DEFINITION_14, rule='maximum')
        if "remaining_ah" in data_keys:
            data_keys.remove("remaining_ah")
            data__remainingah = data["remaining_ah"]
            if not isinstance(data__remainingah, (int, float, Decimal)) or isinstance(data__remainingah, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".remaining_ah must be number", value=data__remainingah, name="" + (name_prefix or "data") + ".remaining_ah", definition=DEFINITION_13, rule='type')
            if isinstance(data__remainingah, (int, float, Decimal)) and not isinstance(data__remainingah, bool):
                if data__remainingah < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".remaining_ah must be bigger than or equal to 0", value=data__remainingah, name="" + (name_prefix or "data") + ".remaining_ah", definition=DEFINITION_13, rule='minimum')
                if data__remainingah > 10000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".remaining_ah must be smaller than or equal to 10000", value=data__remainingah, name="" + (name_prefix or "data") + ".remaining_ah", definition=DEFINITION_13, rule='maximum')
        if "full_capacity_ah" in data_keys:
            data_keys.remove("full_capacity_ah")
            data__fullcapacityah = data["full_capacity_ah"]
            if not isinstance(data__fullcapacityah, (int, float, Decimal)) or isinstance(data__fullcapacityah, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".full_capacity_ah must be number", value=data__fullcapacityah, name="" + (name_prefix or "data") + ".full_capacity_ah", definition=DEFINITION_12, rule='type')
            if isinstance(data__fullcapacityah, (int, float, Decimal)) and not isinstance(data__fullcapacityah, bool):
                if data__fullcapacityah < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".full_capacity_ah must be bigger than or equal to 0", value=data__fullcapacityah, name="" + (name_prefix or "data") + ".full_capacity_ah", definition=DEFINITION_12, rule='minimum')
                if data__fullcapacityah > 10000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".full_capacity_ah must be smaller than or equal to 10000", value=data__fullcapacityah, name="" + (name_prefix or "data") + ".full_capacity_ah", definition=DEFINITION_12, rule='maximum')
        if "cycles" in data_keys:
            data_keys.remove("cycles")
            data__cycles = data["cycles"]
            if not isinstance(data__cycles, (int)) and not (isinstance(data__cycles, float) and data__cycles.is_integer()) or isinstance(data__cycles, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cycles must be integer", value=data__cycles, name="" + (name_prefix or "data") + ".cycles", definition=DEFINITION_11, rule='type')
            if isinstance(data__cycles, (int, float, Decimal)) and not isinstance(data__cycles, bool):
                if data__cycles < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cycles must be bigger than or equal to 0", value=data__cycles, name="" + (name_prefix or "data") + ".cycles", definition=DEFINITION_11, rule='minimum')
                if data__cycles > 65535:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cycles must be smaller than or equal to 65535", value=data__cycles, name="" + (name_prefix or "data") + ".cycles", definition=DEFINITION_11, rule='maximum')
        if "cell_voltages_v" in data_keys:
            data_keys.remove("cell_voltages_v")
            data__cellvoltagesv = data["cell_voltages_v"]
            if not isinstance(data__cellvoltagesv, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cell_voltages_v must be array", value=data__cellvoltagesv, name="" + (name_prefix or "data") + ".cell_voltages_v", definition=DEFINITION_10, rule='type')
            data__cellvoltagesv_is_list = isinstance(data__cellvoltagesv, (list, tuple))
            if data__cellvoltagesv_is_list:
                data__cellvoltagesv_len = len(data__cellvoltagesv)
                if data__cellvoltagesv_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cell_voltages_v must contain less than or equal to 64 items", value=data__cellvoltagesv, name="" + (name_prefix or "data") + ".cell_voltages_v", definition=DEFINITION_10, rule='maxItems')
                for data__cellvoltagesv_x, data__cellvoltagesv_item in enumerate(data__cellvoltagesv):
                    if not isinstance(data__cellvoltagesv_item, (int, float, Decimal)) or isinstance(data__cellvoltagesv_item, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + " must be number", value=data__cellvoltagesv_item, name="" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + "", definition=DEFINITION_9, rule='type')
                    if isinstance(data__cellvoltagesv_item, (int, float, Decimal)) and not isinstance(data__cellvoltagesv_item, bool):
                        if data__cellvoltagesv_item < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + " must be bigger than or equal to 0", value=data__cellvoltagesv_item, name="" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + "", definition=DEFINITION_9, rule='minimum')
                        if data__cellvoltagesv_item > 6:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + " must be smaller than or equal to 6", value=data__cellvoltagesv_item, name="" + (name_prefix or "data") + ".cell_voltages_v[{data__cellvoltagesv_x}]".format(**locals()) + "", definition=DEFINITION_9, rule='maximum')
        if "temperatures_c" in data_keys:
            data_keys.remove("temperatures_c")
            data__temperaturesc = data["temperatures_c"]
            if not isinstance(data__temperaturesc, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".temperatures_c must be array", value=data__temperaturesc, name="" + (name_prefix or "data") + ".temperatures_c", definition=DEFINITION_8, rule='type')
            data__temperaturesc_is_list = isinstance(data__temperaturesc, (list, tuple))
            if data__temperaturesc_is_list:
                data__temperaturesc_len = len(data__temperaturesc)
                if data__temperaturesc_len > 16:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".temperatures_c must contain less than or equal to 16 items", value=data__temperaturesc, name="" + (name_prefix or "data") + ".temperatures_c", definition=DEFINITION_8, rule='maxItems')
                for data__temperaturesc_x, data__temperaturesc_item in enumerate(data__temperaturesc):
                    if not isinstance(data__temperaturesc_item, (int, float, Decimal)) or isinstance(data__temperaturesc_item, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + " must be number", value=data__temperaturesc_item, name="" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + "", definition=DEFINITION_7, rule='type')
                    if isinstance(data__temperaturesc_item, (int, float, Decimal)) and not isinstance(data__temperaturesc_item, bool):
                        if data__temperaturesc_item < -60:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + " must be bigger than or equal to -60", value=data__temperaturesc_item, name="" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + "", definition=DEFINITION_7, rule='minimum')
                        if data__temperaturesc_item > 200:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + " must be smaller than or equal to 200", value=data__temperaturesc_item, name="" + (name_prefix or "data") + ".temperatures_c[{data__temperaturesc_x}]".format(**locals()) + "", definition=DEFINITION_7, rule='maximum')
        if "charge_mos" in data_keys:
            data_keys.remove("charge_mos")
            data__chargemos = data["charge_mos"]
            if not isinstance(data__chargemos, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".charge_mos must be boolean", value=data__chargemos, name="" + (name_prefix or "data") + ".charge_mos", definition=DEFINITION_6, rule='type')
        if "discharge_mos" in data_keys:
            data_keys.remove("discharge_mos")
            data__dischargemos = data["discharge_mos"]
            if not isinstance(data__dischargemos, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".discharge_mos must be boolean", value=data__dischargemos, name="" + (name_prefix or "data") + ".discharge_mos", definition=DEFINITION_5, rule='type')
        if "protection" in data_keys:
            data_keys.remove("protection")
            data__protection = data["protection"]
            if not isinstance(data__protection, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".protection must be array", value=data__protection, name="" + (name_prefix or "data") + ".protection", definition=DEFINITION_4, rule='type')
            data__protection_is_list = isinstance(data__protection, (list, tuple))
            if data__protection_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__protection_len = len(data__protection)
                if data__protection_len > len(set(fn(data__protection_x) for data__protection_x in data__protection)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".protection must contain unique items", value=data__protection, name="" + (name_prefix or "data") + ".protection", definition=DEFINITION_4, rule='uniqueItems')
                for data__protection_x, data__protection_item in enumerate(data__protection):
                    if not isinstance(data__protection_item, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".protection[{data__protection_x}]".format(**locals()) + " must be string", value=data__protection_item, name="" + (name_prefix or "data") + ".protection[{data__protection_x}]".format(**locals()) + "", definition=DEFINITION_3, rule='type')
                    if isinstance(data__protection_item, str):
                        if not REGEX_PATTERNS['^[a-z][a-z0-9_]{0,63}$'].search(data__protection_item):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".protection[{data__protection_x}]".format(**locals()) + " must match pattern ^[a-z][a-z0-9_]{0,63}$", value=data__protection_item, name="" + (name_prefix or "data") + ".protection[{data__protection_x}]".format(**locals()) + "", definition=DEFINITION_3, rule='pattern')
        if "balancing" in data_keys:
            data_keys.remove("balancing")
            data__balancing = data["balancing"]
            if not isinstance(data__balancing, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".balancing must be array", value=data__balancing, name="" + (name_prefix or "data") + ".balancing", definition=DEFINITION_2, rule='type')
            data__balancing_is_list = isinstance(data__balancing, (list, tuple))
            if data__balancing_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__balancing_len = len(data__balancing)
                if data__balancing_len > len(set(fn(data__balancing_x) for data__balancing_x in data__balancing)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".balancing must contain unique items", value=data__balancing, name="" + (name_prefix or "data") + ".balancing", definition=DEFINITION_2, rule='uniqueItems')
                for data__balancing_x, data__balancing_item in enumerate(data__balancing):
                    if not isinstance(data__balancing_item, (int)) and not (isinstance(data__balancing_item, float) and data__balancing_item.is_integer()) or isinstance(data__balancing_item, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + " must be integer", value=data__balancing_item, name="" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + "", definition=DEFINITION_1, rule='type')
                    if isinstance(data__balancing_item, (int, float, Decimal)) and not isinstance(data__balancing_item, bool):
                        if data__balancing_item < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + " must be bigger than or equal to 1", value=data__balancing_item, name="" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + "", definition=DEFINITION_1, rule='minimum')
                        if data__balancing_item > 64:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + " must be smaller than or equal to 64", value=data__balancing_item, name="" + (name_prefix or "data") + ".balancing[{data__balancing_x}]".format(**locals()) + "", definition=DEFINITION_1, rule='maximum')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_0, rule='additionalProperties')
    return data


# ---- schemas/event.schema.json ----
REGEX_PATTERNS.update({
    '^[a-z][a-z0-9_]{0,63}$': re.compile('^[a-z][a-z0-9_]{0,63}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_event_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_43, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['events']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_43, rule='required')
        data_keys = set(data.keys())
        if "events" in data_keys:
            data_keys.remove("events")
            data__events = data["events"]
            if not isinstance(data__events, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".events must be array", value=data__events, name="" + (name_prefix or "data") + ".events", definition=DEFINITION_44, rule='type')
            data__events_is_list = isinstance(data__events, (list, tuple))
            if data__events_is_list:
                data__events_len = len(data__events)
                if data__events_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".events must contain at least 1 items", value=data__events, name="" + (name_prefix or "data") + ".events", definition=DEFINITION_44, rule='minItems')
                if data__events_len > 5000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".events must contain less than or equal to 5000 items", value=data__events, name="" + (name_prefix or "data") + ".events", definition=DEFINITION_44, rule='maxItems')
                for data__events_x, data__events_item in enumerate(data__events):
                    validate_https___voltrent_dev_schemas_v1_event_schema_json___defs_event(data__events_item, custom_formats, (name_prefix or "data") + ".events[{data__events_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_43, rule='additionalProperties')
    return data

def validate_https___voltrent_dev_schemas_v1_event_schema_json___defs_event(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_40, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['seq', 'ts', 'type']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_40, rule='required')
        data_keys = set(data.keys())
        if "seq" in data_keys:
            data_keys.remove("seq")
            data__seq = data["seq"]
            if not isinstance(data__seq, (int)) and not (isinstance(data__seq, float) and data__seq.is_integer()) or isinstance(data__seq, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be integer", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='type')
            if isinstance(data__seq, (int, float, Decimal)) and not isinstance(data__seq, bool):
                if data__seq < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be bigger than or equal to 0", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='minimum')
                if data__seq > 9007199254740991:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".seq must be smaller than or equal to 9007199254740991", value=data__seq, name="" + (name_prefix or "data") + ".seq", definition=DEFINITION_20, rule='maximum')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "resent" in data_keys:
            data_keys.remove("resent")
            data__resent = data["resent"]
            if not isinstance(data__resent, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".resent must be boolean", value=data__resent, name="" + (name_prefix or "data") + ".resent", definition=DEFINITION_18, rule='type')
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not isinstance(data__type, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be string", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_3, rule='type')
            if isinstance(data__type, str):
                if not REGEX_PATTERNS['^[a-z][a-z0-9_]{0,63}$'].search(data__type):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must match pattern ^[a-z][a-z0-9_]{0,63}$", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_3, rule='pattern')
        if "severity" in data_keys:
            data_keys.remove("severity")
            data__severity = data["severity"]
            if not (isinstance(data__severity, str) and data__severity == 'info' or isinstance(data__severity, str) and data__severity == 'warning' or isinstance(data__severity, str) and data__severity == 'critical'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".severity must be one of ['info', 'warning', 'critical']", value=data__severity, name="" + (name_prefix or "data") + ".severity", definition=DEFINITION_42, rule='enum')
        if "detail" in data_keys:
            data_keys.remove("detail")
            data__detail = data["detail"]
            if not isinstance(data__detail, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".detail must be object", value=data__detail, name="" + (name_prefix or "data") + ".detail", definition=DEFINITION_41, rule='type')
            data__detail_is_dict = isinstance(data__detail, dict)
            if data__detail_is_dict:
                data__detail_len = len(data__detail)
                if data__detail_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".detail must contain less than or equal to 64 properties", value=data__detail, name="" + (name_prefix or "data") + ".detail", definition=DEFINITION_41, rule='maxProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_40, rule='additionalProperties')
    return data


# ---- schemas/ack.schema.json ----
REGEX_PATTERNS.update({
    '^[A-Za-z0-9_.:-]{1,64}$': re.compile('^[A-Za-z0-9_.:-]{1,64}\\Z'),
    '^[a-z][a-z0-9_]{0,63}$': re.compile('^[a-z][a-z0-9_]{0,63}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_ack_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_45, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['cmd_id', 'ts', 'result']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_45, rule='required')
        data_keys = set(data.keys())
        if "cmd_id" in data_keys:
            data_keys.remove("cmd_id")
            data__cmdid = data["cmd_id"]
            if not isinstance(data__cmdid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cmd_id must be string", value=data__cmdid, name="" + (name_prefix or "data") + ".cmd_id", definition=DEFINITION_50, rule='type')
            if isinstance(data__cmdid, str):
                if not REGEX_PATTERNS['^[A-Za-z0-9_.:-]{1,64}$'].search(data__cmdid):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cmd_id must match pattern ^[A-Za-z0-9_.:-]{1,64}$", value=data__cmdid, name="" + (name_prefix or "data") + ".cmd_id", definition=DEFINITION_50, rule='pattern')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "result" in data_keys:
            data_keys.remove("result")
            data__result = data["result"]
            if not (isinstance(data__result, str) and data__result == 'done' or isinstance(data__result, str) and data__result == 'failed' or isinstance(data__result, str) and data__result == 'rejected' or isinstance(data__result, str) and data__result == 'expired'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".result must be one of ['done', 'failed', 'rejected', 'expired']", value=data__result, name="" + (name_prefix or "data") + ".result", definition=DEFINITION_49, rule='enum')
        if "reason" in data_keys:
            data_keys.remove("reason")
            data__reason = data["reason"]
            if not isinstance(data__reason, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reason must be string", value=data__reason, name="" + (name_prefix or "data") + ".reason", definition=DEFINITION_48, rule='type')
            if isinstance(data__reason, str):
                data__reason_len = len(data__reason)
                if data__reason_len > 500:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".reason must be shorter than or equal to 500 characters", value=data__reason, name="" + (name_prefix or "data") + ".reason", definition=DEFINITION_48, rule='maxLength')
        if "code" in data_keys:
            data_keys.remove("code")
            data__code = data["code"]
            if not isinstance(data__code, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".code must be string", value=data__code, name="" + (name_prefix or "data") + ".code", definition=DEFINITION_47, rule='type')
            if isinstance(data__code, str):
                if not REGEX_PATTERNS['^[a-z][a-z0-9_]{0,63}$'].search(data__code):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".code must match pattern ^[a-z][a-z0-9_]{0,63}$", value=data__code, name="" + (name_prefix or "data") + ".code", definition=DEFINITION_47, rule='pattern')
        if "observed" in data_keys:
            data_keys.remove("observed")
            data__observed = data["observed"]
            if not isinstance(data__observed, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".observed must be object", value=data__observed, name="" + (name_prefix or "data") + ".observed", definition=DEFINITION_46, rule='type')
            data__observed_is_dict = isinstance(data__observed, dict)
            if data__observed_is_dict:
                data__observed_len = len(data__observed)
                if data__observed_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".observed must contain less than or equal to 64 properties", value=data__observed, name="" + (name_prefix or "data") + ".observed", definition=DEFINITION_46, rule='maxProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_45, rule='additionalProperties')
    return data


# ---- schemas/status.schema.json ----
def validate_https___voltrent_dev_schemas_v1_status_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_51, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['online']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_51, rule='required')
        data_keys = set(data.keys())
        if "online" in data_keys:
            data_keys.remove("online")
            data__online = data["online"]
            if not isinstance(data__online, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".online must be boolean", value=data__online, name="" + (name_prefix or "data") + ".online", definition=DEFINITION_62, rule='type')
        if "ts" in data_keys:
            data_keys.remove("ts")
            data__ts = data["ts"]
            if not isinstance(data__ts, (int)) and not (isinstance(data__ts, float) and data__ts.is_integer()) or isinstance(data__ts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be integer", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='type')
            if isinstance(data__ts, (int, float, Decimal)) and not isinstance(data__ts, bool):
                if data__ts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be bigger than or equal to 0", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='minimum')
                if data__ts > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ts must be smaller than or equal to 32503680000000", value=data__ts, name="" + (name_prefix or "data") + ".ts", definition=DEFINITION_19, rule='maximum')
        if "agent_version" in data_keys:
            data_keys.remove("agent_version")
            data__agentversion = data["agent_version"]
            if not isinstance(data__agentversion, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".agent_version must be string", value=data__agentversion, name="" + (name_prefix or "data") + ".agent_version", definition=DEFINITION_61, rule='type')
            if isinstance(data__agentversion, str):
                data__agentversion_len = len(data__agentversion)
                if data__agentversion_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".agent_version must be shorter than or equal to 64 characters", value=data__agentversion, name="" + (name_prefix or "data") + ".agent_version", definition=DEFINITION_61, rule='maxLength')
        if "boot_id" in data_keys:
            data_keys.remove("boot_id")
            data__bootid = data["boot_id"]
            if not isinstance(data__bootid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".boot_id must be string", value=data__bootid, name="" + (name_prefix or "data") + ".boot_id", definition=DEFINITION_61, rule='type')
            if isinstance(data__bootid, str):
                data__bootid_len = len(data__bootid)
                if data__bootid_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".boot_id must be shorter than or equal to 64 characters", value=data__bootid, name="" + (name_prefix or "data") + ".boot_id", definition=DEFINITION_61, rule='maxLength')
        if "uptime_s" in data_keys:
            data_keys.remove("uptime_s")
            data__uptimes = data["uptime_s"]
            if not isinstance(data__uptimes, (int, float, Decimal)) or isinstance(data__uptimes, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".uptime_s must be number", value=data__uptimes, name="" + (name_prefix or "data") + ".uptime_s", definition=DEFINITION_60, rule='type')
            if isinstance(data__uptimes, (int, float, Decimal)) and not isinstance(data__uptimes, bool):
                if data__uptimes < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".uptime_s must be bigger than or equal to 0", value=data__uptimes, name="" + (name_prefix or "data") + ".uptime_s", definition=DEFINITION_60, rule='minimum')
        if "outbox" in data_keys:
            data_keys.remove("outbox")
            data__outbox = data["outbox"]
            if not isinstance(data__outbox, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox must be object", value=data__outbox, name="" + (name_prefix or "data") + ".outbox", definition=DEFINITION_59, rule='type')
            data__outbox_is_dict = isinstance(data__outbox, dict)
            if data__outbox_is_dict:
                data__outbox_keys = set(data__outbox.keys())
                if "records" in data__outbox_keys:
                    data__outbox_keys.remove("records")
                    data__outbox__records = data__outbox["records"]
                    if not isinstance(data__outbox__records, (int)) and not (isinstance(data__outbox__records, float) and data__outbox__records.is_integer()) or isinstance(data__outbox__records, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.records must be integer", value=data__outbox__records, name="" + (name_prefix or "data") + ".outbox.records", definition=DEFINITION_52, rule='type')
                    if isinstance(data__outbox__records, (int, float, Decimal)) and not isinstance(data__outbox__records, bool):
                        if data__outbox__records < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.records must be bigger than or equal to 0", value=data__outbox__records, name="" + (name_prefix or "data") + ".outbox.records", definition=DEFINITION_52, rule='minimum')
                if "bytes" in data__outbox_keys:
                    data__outbox_keys.remove("bytes")
                    data__outbox__bytes = data__outbox["bytes"]
                    if not isinstance(data__outbox__bytes, (int)) and not (isinstance(data__outbox__bytes, float) and data__outbox__bytes.is_integer()) or isinstance(data__outbox__bytes, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.bytes must be integer", value=data__outbox__bytes, name="" + (name_prefix or "data") + ".outbox.bytes", definition=DEFINITION_52, rule='type')
                    if isinstance(data__outbox__bytes, (int, float, Decimal)) and not isinstance(data__outbox__bytes, bool):
                        if data__outbox__bytes < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.bytes must be bigger than or equal to 0", value=data__outbox__bytes, name="" + (name_prefix or "data") + ".outbox.bytes", definition=DEFINITION_52, rule='minimum')
                if "oldest_ts" in data__outbox_keys:
                    data__outbox_keys.remove("oldest_ts")
                    data__outbox__oldestts = data__outbox["oldest_ts"]
                    if not isinstance(data__outbox__oldestts, (int)) and not (isinstance(data__outbox__oldestts, float) and data__outbox__oldestts.is_integer()) or isinstance(data__outbox__oldestts, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.oldest_ts must be integer", value=data__outbox__oldestts, name="" + (name_prefix or "data") + ".outbox.oldest_ts", definition=DEFINITION_19, rule='type')
                    if isinstance(data__outbox__oldestts, (int, float, Decimal)) and not isinstance(data__outbox__oldestts, bool):
                        if data__outbox__oldestts < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.oldest_ts must be bigger than or equal to 0", value=data__outbox__oldestts, name="" + (name_prefix or "data") + ".outbox.oldest_ts", definition=DEFINITION_19, rule='minimum')
                        if data__outbox__oldestts > 32503680000000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.oldest_ts must be smaller than or equal to 32503680000000", value=data__outbox__oldestts, name="" + (name_prefix or "data") + ".outbox.oldest_ts", definition=DEFINITION_19, rule='maximum')
                if "dropped_telemetry" in data__outbox_keys:
                    data__outbox_keys.remove("dropped_telemetry")
                    data__outbox__droppedtelemetry = data__outbox["dropped_telemetry"]
                    if not isinstance(data__outbox__droppedtelemetry, (int)) and not (isinstance(data__outbox__droppedtelemetry, float) and data__outbox__droppedtelemetry.is_integer()) or isinstance(data__outbox__droppedtelemetry, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.dropped_telemetry must be integer", value=data__outbox__droppedtelemetry, name="" + (name_prefix or "data") + ".outbox.dropped_telemetry", definition=DEFINITION_52, rule='type')
                    if isinstance(data__outbox__droppedtelemetry, (int, float, Decimal)) and not isinstance(data__outbox__droppedtelemetry, bool):
                        if data__outbox__droppedtelemetry < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.dropped_telemetry must be bigger than or equal to 0", value=data__outbox__droppedtelemetry, name="" + (name_prefix or "data") + ".outbox.dropped_telemetry", definition=DEFINITION_52, rule='minimum')
                if "dropped_events" in data__outbox_keys:
                    data__outbox_keys.remove("dropped_events")
                    data__outbox__droppedevents = data__outbox["dropped_events"]
                    if not isinstance(data__outbox__droppedevents, (int)) and not (isinstance(data__outbox__droppedevents, float) and data__outbox__droppedevents.is_integer()) or isinstance(data__outbox__droppedevents, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.dropped_events must be integer", value=data__outbox__droppedevents, name="" + (name_prefix or "data") + ".outbox.dropped_events", definition=DEFINITION_52, rule='type')
                    if isinstance(data__outbox__droppedevents, (int, float, Decimal)) and not isinstance(data__outbox__droppedevents, bool):
                        if data__outbox__droppedevents < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox.dropped_events must be bigger than or equal to 0", value=data__outbox__droppedevents, name="" + (name_prefix or "data") + ".outbox.dropped_events", definition=DEFINITION_52, rule='minimum')
                if data__outbox_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".outbox must not contain "+str(data__outbox_keys)+" properties", value=data__outbox, name="" + (name_prefix or "data") + ".outbox", definition=DEFINITION_59, rule='additionalProperties')
        if "sources" in data_keys:
            data_keys.remove("sources")
            data__sources = data["sources"]
            if not isinstance(data__sources, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources must be object", value=data__sources, name="" + (name_prefix or "data") + ".sources", definition=DEFINITION_58, rule='type')
            data__sources_is_dict = isinstance(data__sources, dict)
            if data__sources_is_dict:
                data__sources_len = len(data__sources)
                if data__sources_len > 32:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources must contain less than or equal to 32 properties", value=data__sources, name="" + (name_prefix or "data") + ".sources", definition=DEFINITION_58, rule='maxProperties')
                data__sources_keys = set(data__sources.keys())
                for data__sources_key in data__sources_keys:
                    if data__sources_key not in []:
                        data__sources_value = data__sources.get(data__sources_key)
                        if not isinstance(data__sources_value, (dict)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + " must be object", value=data__sources_value, name="" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + "", definition=DEFINITION_54, rule='type')
                        data__sources_value_is_dict = isinstance(data__sources_value, dict)
                        if data__sources_value_is_dict:
                            data__sources_value__missing_keys = set(['state']) - data__sources_value.keys()
                            if data__sources_value__missing_keys:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + " must contain " + (str(sorted(data__sources_value__missing_keys)) + " properties"), value=data__sources_value, name="" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + "", definition=DEFINITION_54, rule='required')
                            data__sources_value_keys = set(data__sources_value.keys())
                            if "state" in data__sources_value_keys:
                                data__sources_value_keys.remove("state")
                                data__sources_value__state = data__sources_value["state"]
                                if not (isinstance(data__sources_value__state, str) and data__sources_value__state == 'starting' or isinstance(data__sources_value__state, str) and data__sources_value__state == 'ok' or isinstance(data__sources_value__state, str) and data__sources_value__state == 'reconnecting' or isinstance(data__sources_value__state, str) and data__sources_value__state == 'failed' or isinstance(data__sources_value__state, str) and data__sources_value__state == 'disabled'):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.state".format(**locals()) + " must be one of ['starting', 'ok', 'reconnecting', 'failed', 'disabled']", value=data__sources_value__state, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.state".format(**locals()) + "", definition=DEFINITION_57, rule='enum')
                            if "readings" in data__sources_value_keys:
                                data__sources_value_keys.remove("readings")
                                data__sources_value__readings = data__sources_value["readings"]
                                if not isinstance(data__sources_value__readings, (int)) and not (isinstance(data__sources_value__readings, float) and data__sources_value__readings.is_integer()) or isinstance(data__sources_value__readings, bool):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.readings".format(**locals()) + " must be integer", value=data__sources_value__readings, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.readings".format(**locals()) + "", definition=DEFINITION_52, rule='type')
                                if isinstance(data__sources_value__readings, (int, float, Decimal)) and not isinstance(data__sources_value__readings, bool):
                                    if data__sources_value__readings < 0:
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.readings".format(**locals()) + " must be bigger than or equal to 0", value=data__sources_value__readings, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.readings".format(**locals()) + "", definition=DEFINITION_52, rule='minimum')
                            if "errors" in data__sources_value_keys:
                                data__sources_value_keys.remove("errors")
                                data__sources_value__errors = data__sources_value["errors"]
                                if not isinstance(data__sources_value__errors, (dict)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.errors".format(**locals()) + " must be object", value=data__sources_value__errors, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.errors".format(**locals()) + "", definition=DEFINITION_56, rule='type')
                                data__sources_value__errors_is_dict = isinstance(data__sources_value__errors, dict)
                                if data__sources_value__errors_is_dict:
                                    data__sources_value__errors_len = len(data__sources_value__errors)
                                    if data__sources_value__errors_len > 32:
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.errors".format(**locals()) + " must contain less than or equal to 32 properties", value=data__sources_value__errors, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.errors".format(**locals()) + "", definition=DEFINITION_56, rule='maxProperties')
                                    data__sources_value__errors_keys = set(data__sources_value__errors.keys())
                                    for data__sources_value__errors_key in data__sources_value__errors_keys:
                                        if data__sources_value__errors_key not in []:
                                            data__sources_value__errors_value = data__sources_value__errors.get(data__sources_value__errors_key)
                                            if not isinstance(data__sources_value__errors_value, (int)) and not (isinstance(data__sources_value__errors_value, float) and data__sources_value__errors_value.is_integer()) or isinstance(data__sources_value__errors_value, bool):
                                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.errors.{data__sources_value__errors_key}".format(**locals()) + " must be integer", value=data__sources_value__errors_value, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.errors.{data__sources_value__errors_key}".format(**locals()) + "", definition=DEFINITION_52, rule='type')
                                            if isinstance(data__sources_value__errors_value, (int, float, Decimal)) and not isinstance(data__sources_value__errors_value, bool):
                                                if data__sources_value__errors_value < 0:
                                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.errors.{data__sources_value__errors_key}".format(**locals()) + " must be bigger than or equal to 0", value=data__sources_value__errors_value, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.errors.{data__sources_value__errors_key}".format(**locals()) + "", definition=DEFINITION_52, rule='minimum')
                            if "last_error" in data__sources_value_keys:
                                data__sources_value_keys.remove("last_error")
                                data__sources_value__lasterror = data__sources_value["last_error"]
                                if not isinstance(data__sources_value__lasterror, (str)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.last_error".format(**locals()) + " must be string", value=data__sources_value__lasterror, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.last_error".format(**locals()) + "", definition=DEFINITION_55, rule='type')
                                if isinstance(data__sources_value__lasterror, str):
                                    data__sources_value__lasterror_len = len(data__sources_value__lasterror)
                                    if data__sources_value__lasterror_len > 300:
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}.last_error".format(**locals()) + " must be shorter than or equal to 300 characters", value=data__sources_value__lasterror, name="" + (name_prefix or "data") + ".sources.{data__sources_key}.last_error".format(**locals()) + "", definition=DEFINITION_55, rule='maxLength')
                            if data__sources_value_keys:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + " must not contain "+str(data__sources_value_keys)+" properties", value=data__sources_value, name="" + (name_prefix or "data") + ".sources.{data__sources_key}".format(**locals()) + "", definition=DEFINITION_54, rule='additionalProperties')
        if "counters" in data_keys:
            data_keys.remove("counters")
            data__counters = data["counters"]
            if not isinstance(data__counters, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".counters must be object", value=data__counters, name="" + (name_prefix or "data") + ".counters", definition=DEFINITION_53, rule='type')
            data__counters_is_dict = isinstance(data__counters, dict)
            if data__counters_is_dict:
                data__counters_len = len(data__counters)
                if data__counters_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".counters must contain less than or equal to 64 properties", value=data__counters, name="" + (name_prefix or "data") + ".counters", definition=DEFINITION_53, rule='maxProperties')
                data__counters_keys = set(data__counters.keys())
                for data__counters_key in data__counters_keys:
                    if data__counters_key not in []:
                        data__counters_value = data__counters.get(data__counters_key)
                        if not isinstance(data__counters_value, (int)) and not (isinstance(data__counters_value, float) and data__counters_value.is_integer()) or isinstance(data__counters_value, bool):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".counters.{data__counters_key}".format(**locals()) + " must be integer", value=data__counters_value, name="" + (name_prefix or "data") + ".counters.{data__counters_key}".format(**locals()) + "", definition=DEFINITION_52, rule='type')
                        if isinstance(data__counters_value, (int, float, Decimal)) and not isinstance(data__counters_value, bool):
                            if data__counters_value < 0:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".counters.{data__counters_key}".format(**locals()) + " must be bigger than or equal to 0", value=data__counters_value, name="" + (name_prefix or "data") + ".counters.{data__counters_key}".format(**locals()) + "", definition=DEFINITION_52, rule='minimum')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_51, rule='additionalProperties')
    return data


# ---- schemas/cmd.schema.json ----
REGEX_PATTERNS.update({
    '^[A-Za-z0-9_.:-]{1,64}$': re.compile('^[A-Za-z0-9_.:-]{1,64}\\Z'),
    '^[a-z][a-z0-9_]{0,63}$': re.compile('^[a-z][a-z0-9_]{0,63}\\Z'),
    '^[A-Za-z0-9_-]{43}$': re.compile('^[A-Za-z0-9_-]{43}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_cmd_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_63, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['cmd_id', 'type', 'args', 'issued_at', 'expires_at']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_63, rule='required')
        data_keys = set(data.keys())
        if "cmd_id" in data_keys:
            data_keys.remove("cmd_id")
            data__cmdid = data["cmd_id"]
            if not isinstance(data__cmdid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cmd_id must be string", value=data__cmdid, name="" + (name_prefix or "data") + ".cmd_id", definition=DEFINITION_50, rule='type')
            if isinstance(data__cmdid, str):
                if not REGEX_PATTERNS['^[A-Za-z0-9_.:-]{1,64}$'].search(data__cmdid):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cmd_id must match pattern ^[A-Za-z0-9_.:-]{1,64}$", value=data__cmdid, name="" + (name_prefix or "data") + ".cmd_id", definition=DEFINITION_50, rule='pattern')
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not isinstance(data__type, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be string", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_3, rule='type')
            if isinstance(data__type, str):
                if not REGEX_PATTERNS['^[a-z][a-z0-9_]{0,63}$'].search(data__type):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must match pattern ^[a-z][a-z0-9_]{0,63}$", value=data__type, name="" + (name_prefix or "data") + ".type", definition=DEFINITION_3, rule='pattern')
        if "args" in data_keys:
            data_keys.remove("args")
            data__args = data["args"]
            if not isinstance(data__args, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must be object", value=data__args, name="" + (name_prefix or "data") + ".args", definition=DEFINITION_41, rule='type')
            data__args_is_dict = isinstance(data__args, dict)
            if data__args_is_dict:
                data__args_len = len(data__args)
                if data__args_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain less than or equal to 64 properties", value=data__args, name="" + (name_prefix or "data") + ".args", definition=DEFINITION_41, rule='maxProperties')
        if "issued_at" in data_keys:
            data_keys.remove("issued_at")
            data__issuedat = data["issued_at"]
            if not isinstance(data__issuedat, (int)) and not (isinstance(data__issuedat, float) and data__issuedat.is_integer()) or isinstance(data__issuedat, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be integer", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='type')
            if isinstance(data__issuedat, (int, float, Decimal)) and not isinstance(data__issuedat, bool):
                if data__issuedat < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be bigger than or equal to 0", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='minimum')
                if data__issuedat > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be smaller than or equal to 32503680000000", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='maximum')
        if "expires_at" in data_keys:
            data_keys.remove("expires_at")
            data__expiresat = data["expires_at"]
            if not isinstance(data__expiresat, (int)) and not (isinstance(data__expiresat, float) and data__expiresat.is_integer()) or isinstance(data__expiresat, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".expires_at must be integer", value=data__expiresat, name="" + (name_prefix or "data") + ".expires_at", definition=DEFINITION_19, rule='type')
            if isinstance(data__expiresat, (int, float, Decimal)) and not isinstance(data__expiresat, bool):
                if data__expiresat < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".expires_at must be bigger than or equal to 0", value=data__expiresat, name="" + (name_prefix or "data") + ".expires_at", definition=DEFINITION_19, rule='minimum')
                if data__expiresat > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".expires_at must be smaller than or equal to 32503680000000", value=data__expiresat, name="" + (name_prefix or "data") + ".expires_at", definition=DEFINITION_19, rule='maximum')
        if "sig" in data_keys:
            data_keys.remove("sig")
            data__sig = data["sig"]
            if not isinstance(data__sig, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must be object", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='type')
            data__sig_is_dict = isinstance(data__sig, dict)
            if data__sig_is_dict:
                data__sig__missing_keys = set(['kid', 'mac']) - data__sig.keys()
                if data__sig__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must contain " + (str(sorted(data__sig__missing_keys)) + " properties"), value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='required')
                data__sig_keys = set(data__sig.keys())
                if "kid" in data__sig_keys:
                    data__sig_keys.remove("kid")
                    data__sig__kid = data__sig["kid"]
                    if not isinstance(data__sig__kid, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must be string", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='type')
                    if isinstance(data__sig__kid, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_.:-]{1,64}$'].search(data__sig__kid):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must match pattern ^[A-Za-z0-9_.:-]{1,64}$", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='pattern')
                if "mac" in data__sig_keys:
                    data__sig_keys.remove("mac")
                    data__sig__mac = data__sig["mac"]
                    if not isinstance(data__sig__mac, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must be string", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='type')
                    if isinstance(data__sig__mac, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_-]{43}$'].search(data__sig__mac):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must match pattern ^[A-Za-z0-9_-]{43}$", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='pattern')
                if data__sig_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must not contain "+str(data__sig_keys)+" properties", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='additionalProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_63, rule='additionalProperties')
    return data


# ---- schemas/lease.schema.json ----
REGEX_PATTERNS.update({
    '^[A-Za-z0-9_.:-]{1,64}$': re.compile('^[A-Za-z0-9_.:-]{1,64}\\Z'),
    '^[A-Za-z0-9_-]{43}$': re.compile('^[A-Za-z0-9_-]{43}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_lease_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_67, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['version', 'leased', 'cutoff_when_not_leased', 'issued_at']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_67, rule='required')
        data_keys = set(data.keys())
        if "version" in data_keys:
            data_keys.remove("version")
            data__version = data["version"]
            if not isinstance(data__version, (int)) and not (isinstance(data__version, float) and data__version.is_integer()) or isinstance(data__version, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be integer", value=data__version, name="" + (name_prefix or "data") + ".version", definition=DEFINITION_71, rule='type')
            if isinstance(data__version, (int, float, Decimal)) and not isinstance(data__version, bool):
                if data__version < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be bigger than or equal to 0", value=data__version, name="" + (name_prefix or "data") + ".version", definition=DEFINITION_71, rule='minimum')
        if "leased" in data_keys:
            data_keys.remove("leased")
            data__leased = data["leased"]
            if not isinstance(data__leased, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased must be boolean", value=data__leased, name="" + (name_prefix or "data") + ".leased", definition=DEFINITION_62, rule='type')
        if "leased_until" in data_keys:
            data_keys.remove("leased_until")
            data__leaseduntil = data["leased_until"]
            data__leaseduntil_one_of_count1 = 0
            if data__leaseduntil_one_of_count1 < 2:
                try:
                    if not isinstance(data__leaseduntil, (int)) and not (isinstance(data__leaseduntil, float) and data__leaseduntil.is_integer()) or isinstance(data__leaseduntil, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased_until must be integer", value=data__leaseduntil, name="" + (name_prefix or "data") + ".leased_until", definition=DEFINITION_19, rule='type')
                    if isinstance(data__leaseduntil, (int, float, Decimal)) and not isinstance(data__leaseduntil, bool):
                        if data__leaseduntil < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased_until must be bigger than or equal to 0", value=data__leaseduntil, name="" + (name_prefix or "data") + ".leased_until", definition=DEFINITION_19, rule='minimum')
                        if data__leaseduntil > 32503680000000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased_until must be smaller than or equal to 32503680000000", value=data__leaseduntil, name="" + (name_prefix or "data") + ".leased_until", definition=DEFINITION_19, rule='maximum')
                    data__leaseduntil_one_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if data__leaseduntil_one_of_count1 < 2:
                try:
                    if not isinstance(data__leaseduntil, (NoneType)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased_until must be null", value=data__leaseduntil, name="" + (name_prefix or "data") + ".leased_until", definition=DEFINITION_70, rule='type')
                    data__leaseduntil_one_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if data__leaseduntil_one_of_count1 != 1:
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".leased_until must be valid exactly by one definition" + (" (" + str(data__leaseduntil_one_of_count1) + " matches found)"), value=data__leaseduntil, name="" + (name_prefix or "data") + ".leased_until", definition=DEFINITION_69, rule='oneOf')
        if "grace_s" in data_keys:
            data_keys.remove("grace_s")
            data__graces = data["grace_s"]
            if not isinstance(data__graces, (int)) and not (isinstance(data__graces, float) and data__graces.is_integer()) or isinstance(data__graces, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".grace_s must be integer", value=data__graces, name="" + (name_prefix or "data") + ".grace_s", definition=DEFINITION_68, rule='type')
            if isinstance(data__graces, (int, float, Decimal)) and not isinstance(data__graces, bool):
                if data__graces < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".grace_s must be bigger than or equal to 0", value=data__graces, name="" + (name_prefix or "data") + ".grace_s", definition=DEFINITION_68, rule='minimum')
                if data__graces > 31536000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".grace_s must be smaller than or equal to 31536000", value=data__graces, name="" + (name_prefix or "data") + ".grace_s", definition=DEFINITION_68, rule='maximum')
        if "cutoff_when_not_leased" in data_keys:
            data_keys.remove("cutoff_when_not_leased")
            data__cutoffwhennotleased = data["cutoff_when_not_leased"]
            if not isinstance(data__cutoffwhennotleased, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cutoff_when_not_leased must be boolean", value=data__cutoffwhennotleased, name="" + (name_prefix or "data") + ".cutoff_when_not_leased", definition=DEFINITION_62, rule='type')
        if "issued_at" in data_keys:
            data_keys.remove("issued_at")
            data__issuedat = data["issued_at"]
            if not isinstance(data__issuedat, (int)) and not (isinstance(data__issuedat, float) and data__issuedat.is_integer()) or isinstance(data__issuedat, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be integer", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='type')
            if isinstance(data__issuedat, (int, float, Decimal)) and not isinstance(data__issuedat, bool):
                if data__issuedat < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be bigger than or equal to 0", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='minimum')
                if data__issuedat > 32503680000000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".issued_at must be smaller than or equal to 32503680000000", value=data__issuedat, name="" + (name_prefix or "data") + ".issued_at", definition=DEFINITION_19, rule='maximum')
        if "lease_id" in data_keys:
            data_keys.remove("lease_id")
            data__leaseid = data["lease_id"]
            if not isinstance(data__leaseid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lease_id must be string", value=data__leaseid, name="" + (name_prefix or "data") + ".lease_id", definition=DEFINITION_61, rule='type')
            if isinstance(data__leaseid, str):
                data__leaseid_len = len(data__leaseid)
                if data__leaseid_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lease_id must be shorter than or equal to 64 characters", value=data__leaseid, name="" + (name_prefix or "data") + ".lease_id", definition=DEFINITION_61, rule='maxLength')
        if "sig" in data_keys:
            data_keys.remove("sig")
            data__sig = data["sig"]
            if not isinstance(data__sig, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must be object", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='type')
            data__sig_is_dict = isinstance(data__sig, dict)
            if data__sig_is_dict:
                data__sig__missing_keys = set(['kid', 'mac']) - data__sig.keys()
                if data__sig__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must contain " + (str(sorted(data__sig__missing_keys)) + " properties"), value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='required')
                data__sig_keys = set(data__sig.keys())
                if "kid" in data__sig_keys:
                    data__sig_keys.remove("kid")
                    data__sig__kid = data__sig["kid"]
                    if not isinstance(data__sig__kid, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must be string", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='type')
                    if isinstance(data__sig__kid, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_.:-]{1,64}$'].search(data__sig__kid):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must match pattern ^[A-Za-z0-9_.:-]{1,64}$", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='pattern')
                if "mac" in data__sig_keys:
                    data__sig_keys.remove("mac")
                    data__sig__mac = data__sig["mac"]
                    if not isinstance(data__sig__mac, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must be string", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='type')
                    if isinstance(data__sig__mac, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_-]{43}$'].search(data__sig__mac):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must match pattern ^[A-Za-z0-9_-]{43}$", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='pattern')
                if data__sig_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must not contain "+str(data__sig_keys)+" properties", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='additionalProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_67, rule='additionalProperties')
    return data


# ---- schemas/config.schema.json ----
REGEX_PATTERNS.update({
    '^[A-Za-z0-9_.:-]{1,64}$': re.compile('^[A-Za-z0-9_.:-]{1,64}\\Z'),
    '^[A-Za-z0-9_-]{43}$': re.compile('^[A-Za-z0-9_-]{43}\\Z')
})

def validate_https___voltrent_dev_schemas_v1_config_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_72, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['version']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_72, rule='required')
        data_keys = set(data.keys())
        if "version" in data_keys:
            data_keys.remove("version")
            data__version = data["version"]
            if not isinstance(data__version, (int)) and not (isinstance(data__version, float) and data__version.is_integer()) or isinstance(data__version, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be integer", value=data__version, name="" + (name_prefix or "data") + ".version", definition=DEFINITION_77, rule='type')
            if isinstance(data__version, (int, float, Decimal)) and not isinstance(data__version, bool):
                if data__version < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be bigger than or equal to 0", value=data__version, name="" + (name_prefix or "data") + ".version", definition=DEFINITION_77, rule='minimum')
        if "report_interval_s" in data_keys:
            data_keys.remove("report_interval_s")
            data__reportintervals = data["report_interval_s"]
            if not isinstance(data__reportintervals, (int, float, Decimal)) or isinstance(data__reportintervals, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".report_interval_s must be number", value=data__reportintervals, name="" + (name_prefix or "data") + ".report_interval_s", definition=DEFINITION_76, rule='type')
            if isinstance(data__reportintervals, (int, float, Decimal)) and not isinstance(data__reportintervals, bool):
                if data__reportintervals < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".report_interval_s must be bigger than or equal to 1", value=data__reportintervals, name="" + (name_prefix or "data") + ".report_interval_s", definition=DEFINITION_76, rule='minimum')
                if data__reportintervals > 86400:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".report_interval_s must be smaller than or equal to 86400", value=data__reportintervals, name="" + (name_prefix or "data") + ".report_interval_s", definition=DEFINITION_76, rule='maximum')
        if "upload_interval_s" in data_keys:
            data_keys.remove("upload_interval_s")
            data__uploadintervals = data["upload_interval_s"]
            if not isinstance(data__uploadintervals, (int, float, Decimal)) or isinstance(data__uploadintervals, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".upload_interval_s must be number", value=data__uploadintervals, name="" + (name_prefix or "data") + ".upload_interval_s", definition=DEFINITION_75, rule='type')
            if isinstance(data__uploadintervals, (int, float, Decimal)) and not isinstance(data__uploadintervals, bool):
                if data__uploadintervals < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".upload_interval_s must be bigger than or equal to 0", value=data__uploadintervals, name="" + (name_prefix or "data") + ".upload_interval_s", definition=DEFINITION_75, rule='minimum')
                if data__uploadintervals > 86400:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".upload_interval_s must be smaller than or equal to 86400", value=data__uploadintervals, name="" + (name_prefix or "data") + ".upload_interval_s", definition=DEFINITION_75, rule='maximum')
        if "status_interval_s" in data_keys:
            data_keys.remove("status_interval_s")
            data__statusintervals = data["status_interval_s"]
            if not isinstance(data__statusintervals, (int, float, Decimal)) or isinstance(data__statusintervals, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".status_interval_s must be number", value=data__statusintervals, name="" + (name_prefix or "data") + ".status_interval_s", definition=DEFINITION_74, rule='type')
            if isinstance(data__statusintervals, (int, float, Decimal)) and not isinstance(data__statusintervals, bool):
                if data__statusintervals < 10:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".status_interval_s must be bigger than or equal to 10", value=data__statusintervals, name="" + (name_prefix or "data") + ".status_interval_s", definition=DEFINITION_74, rule='minimum')
                if data__statusintervals > 86400:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".status_interval_s must be smaller than or equal to 86400", value=data__statusintervals, name="" + (name_prefix or "data") + ".status_interval_s", definition=DEFINITION_74, rule='maximum')
        if "thresholds" in data_keys:
            data_keys.remove("thresholds")
            data__thresholds = data["thresholds"]
            if not isinstance(data__thresholds, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".thresholds must be object", value=data__thresholds, name="" + (name_prefix or "data") + ".thresholds", definition=DEFINITION_73, rule='type')
            data__thresholds_is_dict = isinstance(data__thresholds, dict)
            if data__thresholds_is_dict:
                data__thresholds_len = len(data__thresholds)
                if data__thresholds_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".thresholds must contain less than or equal to 64 properties", value=data__thresholds, name="" + (name_prefix or "data") + ".thresholds", definition=DEFINITION_73, rule='maxProperties')
                data__thresholds_keys = set(data__thresholds.keys())
                for data__thresholds_key in data__thresholds_keys:
                    if data__thresholds_key not in []:
                        data__thresholds_value = data__thresholds.get(data__thresholds_key)
                        if not isinstance(data__thresholds_value, (int, float, Decimal)) or isinstance(data__thresholds_value, bool):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".thresholds.{data__thresholds_key}".format(**locals()) + " must be number", value=data__thresholds_value, name="" + (name_prefix or "data") + ".thresholds.{data__thresholds_key}".format(**locals()) + "", definition=DEFINITION_34, rule='type')
        if "sig" in data_keys:
            data_keys.remove("sig")
            data__sig = data["sig"]
            if not isinstance(data__sig, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must be object", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='type')
            data__sig_is_dict = isinstance(data__sig, dict)
            if data__sig_is_dict:
                data__sig__missing_keys = set(['kid', 'mac']) - data__sig.keys()
                if data__sig__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must contain " + (str(sorted(data__sig__missing_keys)) + " properties"), value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='required')
                data__sig_keys = set(data__sig.keys())
                if "kid" in data__sig_keys:
                    data__sig_keys.remove("kid")
                    data__sig__kid = data__sig["kid"]
                    if not isinstance(data__sig__kid, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must be string", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='type')
                    if isinstance(data__sig__kid, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_.:-]{1,64}$'].search(data__sig__kid):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.kid must match pattern ^[A-Za-z0-9_.:-]{1,64}$", value=data__sig__kid, name="" + (name_prefix or "data") + ".sig.kid", definition=DEFINITION_66, rule='pattern')
                if "mac" in data__sig_keys:
                    data__sig_keys.remove("mac")
                    data__sig__mac = data__sig["mac"]
                    if not isinstance(data__sig__mac, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must be string", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='type')
                    if isinstance(data__sig__mac, str):
                        if not REGEX_PATTERNS['^[A-Za-z0-9_-]{43}$'].search(data__sig__mac):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig.mac must match pattern ^[A-Za-z0-9_-]{43}$", value=data__sig__mac, name="" + (name_prefix or "data") + ".sig.mac", definition=DEFINITION_65, rule='pattern')
                if data__sig_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".sig must not contain "+str(data__sig_keys)+" properties", value=data__sig, name="" + (name_prefix or "data") + ".sig", definition=DEFINITION_64, rule='additionalProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition=DEFINITION_72, rule='additionalProperties')
    return data


VALIDATORS = {
    'telemetry': validate_https___voltrent_dev_schemas_v1_telemetry_schema_json,
    'event': validate_https___voltrent_dev_schemas_v1_event_schema_json,
    'ack': validate_https___voltrent_dev_schemas_v1_ack_schema_json,
    'status': validate_https___voltrent_dev_schemas_v1_status_schema_json,
    'cmd': validate_https___voltrent_dev_schemas_v1_cmd_schema_json,
    'lease': validate_https___voltrent_dev_schemas_v1_lease_schema_json,
    'config': validate_https___voltrent_dev_schemas_v1_config_schema_json,
}
