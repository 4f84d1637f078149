"""A loopback TCP proxy that splits both directions of an MQTT 3.1.1 connection into
packets and counts them, for the uplink-bytes benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from launcher.broker import free_port

PACKET_NAMES = {
    1: "CONNECT",
    2: "CONNACK",
    3: "PUBLISH",
    4: "PUBACK",
    8: "SUBSCRIBE",
    9: "SUBACK",
    12: "PINGREQ",
    13: "PINGRESP",
    14: "DISCONNECT",
}


# -- an MQTT 3.1.1 stream, packet by packet ---------------------------------------------
@dataclass
class Packet:
    kind: str  # CONNECT, PUBLISH up/telemetry, PUBACK, ...
    size: int  # whole packet: fixed header + variable header + payload
    payload: bytes = b""  # PUBLISH only
    at: float = 0.0


@dataclass
class MqttStream:
    """Splits one direction of an MQTT 3.1.1 connection into packets."""

    packets: list[Packet] = field(default_factory=list)
    bytes_seen: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self.bytes_seen += len(data)
        self._buffer += data
        while (packet := self._next()) is not None:
            self.packets.append(packet)

    def _next(self) -> Packet | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        length, multiplier, index = 0, 1, 1
        while True:  # remaining length: 7 bits per byte, high bit = more
            if index >= len(buffer):
                return None
            byte = buffer[index]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if not byte & 0x80:
                break
        end = index + length
        if len(buffer) < end:
            return None
        first, body = buffer[0], bytes(buffer[index:end])
        del buffer[:end]
        kind = PACKET_NAMES.get(first >> 4, f"type {first >> 4}")
        payload = b""
        if kind == "PUBLISH":
            qos = (first >> 1) & 3
            topic_length = struct.unpack_from(">H", body)[0]
            topic = body[2 : 2 + topic_length].decode()
            payload = body[2 + topic_length + (2 if qos else 0) :]
            kind = "PUBLISH " + topic.split("/", 3)[3]
        return Packet(kind, end, payload, time.monotonic())


class CountingProxy:
    """A loopback TCP proxy that parses and counts what passes each way."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.port = free_port()
        self.uplink = MqttStream()  # agent -> broker
        self.downlink = MqttStream()  # broker -> agent
        self.connections = 0
        self.segments: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._agent_sockets: list[Any] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, agent_reader, agent_writer) -> None:
        self.connections += 1
        self._agent_sockets.append(agent_writer.get_extra_info("socket"))
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._pipe(agent_reader, broker_writer, self.uplink))
            group.create_task(self._pipe(broker_reader, agent_writer, self.downlink))

    async def _pipe(self, reader, writer, stream: MqttStream) -> None:
        try:
            while data := await reader.read(65536):
                stream.feed(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def read_segment_counters(self) -> None:
        """TCP segment counters of the agent's connection, from the proxy's end: segments
        in = what the agent sent (data and pure ACKs), out = what it received."""
        for sock in self._agent_sockets:
            with contextlib.suppress(OSError):
                info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
                # struct tcp_info: tcpi_segs_out at 136, tcpi_segs_in at 140,
                # tcpi_data_segs_in at 152, tcpi_data_segs_out at 156 (Linux >= 4.6)
                segs_out, segs_in = struct.unpack_from("<II", info, 136)
                data_in, data_out = struct.unpack_from("<II", info, 152)
                self.segments = {
                    "agent_sent": segs_in,
                    "agent_sent_data": data_in,
                    "agent_received": segs_out,
                    "agent_received_data": data_out,
                }

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
