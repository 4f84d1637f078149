"""``/api/live/...`` and ``/api/devices/<id>/live``: the console's live map and device page.

The snapshot is written straight from its query (10,000 devices must not go through a
marshmallow pass per value). The streams are server-sent events fed by the process's hub
(``cloud.live.hub``); a stream holds its waitress thread while it is open, but no pooled
connection: it borrows one only to re-check its caller every heartbeat, and (device pages)
to read what changed on its device.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response, current_app, request, stream_with_context
from flask.views import MethodView

from cloud.commands import ledger
from cloud.commands.schemas import CommandSchema
from cloud.config import CloudConfig
from cloud.devices import registry
from cloud.devices.schemas.devices import DeviceStateSchema
from cloud.errors import NotFound, StoreUnavailable
from cloud.http.db import connection, database
from cloud.http.problems import problem
from cloud.http.schemas import Blueprint
from cloud.identity.guard import principal, requires
from cloud.live import access, feed, sse
from cloud.live.cursor import Cursor, CursorError
from cloud.live.hub import RESYNC, DeviceNote, Hub, Subscriber
from cloud.live.schemas import LiveSnapshotSchema, StreamArgs
from cloud.rules import alarms
from cloud.rules.schemas.alarms import AlarmSchema

blp = Blueprint("live", __name__, description="The live feed of the console's map and device page")

log = logging.getLogger(__name__)

_EXTENSION = "voltrent.live"
# How often a waiting stream looks whether its client went away.
_CHECK_S = 1.0
_STREAM_DOC = {
    "200": {
        "description": "A stream of server-sent events (text/event-stream)",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
_state_schema, _command_schema, _alarm_schema = DeviceStateSchema(), CommandSchema(), AlarmSchema()


def init_app(app: Flask, config: CloudConfig) -> None:
    """Give the app its hub (its thread starts with the first stream)."""
    app.extensions[_EXTENSION] = Hub(
        config.database_url, poll_s=config.live_poll_s, max_streams=config.api_max_streams
    )


def _hub() -> Hub:
    return current_app.extensions[_EXTENSION]


@blp.route("/live/devices")
class LiveDevices(MethodView):
    @requires("device.read")
    @blp.response(200, LiveSnapshotSchema)
    def get(self):
        """Get every device of the caller's scope, one compact row each

        Columnar, to stay small for a whole fleet. Open `/api/live/stream?cursor=...` with
        the `cursor` of this answer to get every change after it.
        """
        who = principal()
        with connection() as conn:
            body = feed.snapshot(conn, who.operator_id, who.store_id)
        return Response(feed.to_json(body), mimetype="application/json")


@blp.route("/live/stream")
class LiveStream(MethodView):
    @requires("device.read")
    @blp.arguments(StreamArgs, location="query")
    @blp.doc(responses=_STREAM_DOC)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, args):
        """Follow the devices of the caller's scope (server-sent events)

        `event: devices` carries the whole compact row (the columns of `/api/live/devices`)
        of each device that changed, at most one event per 200 ms; `event: gone` the ids of
        devices that left the caller's scope (deleted, transferred away, moved to another
        store). Every event's `id` is a cursor: a reconnection sending it as `Last-Event-ID`
        (or as `?cursor=`) gets every change after it. `event: resync` (an unknown cursor,
        or a reader too slow to keep up) ends the stream: fetch the snapshot again. A
        comment line comes every 15 s; the stream ends when the caller's session or token
        is revoked or expires. 503 with Retry-After when the server has no room for
        another stream.
        """
        return _open(args, None)


@blp.route("/devices/<string:device_id>/live")
class DeviceLive(MethodView):
    @requires("device.read")
    @blp.arguments(StreamArgs, location="query")
    @blp.doc(responses=_STREAM_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, args, device_id):
        """Follow one device (server-sent events)

        `event: state`: the device's whole state (as `GET /api/devices/{device_id}/state`)
        when it changes; `event: command`: a command of the device (as `GET
        /api/commands/{cmd_id}`) whenever its state changes; `event: alarm`: an alarm of
        the device (as in `GET /api/alarms`) when it opens, changes or resolves; `event:
        gone` when the device leaves the caller's scope (the stream then ends). Ids,
        `Last-Event-ID`, resync, heartbeat and the end of the stream as for
        `/api/live/stream`.
        """
        return _open(args, device_id)


def _open(args: dict[str, Any], device_id: str | None) -> Response:
    hub = _hub()
    if not hub.admit():
        return problem(
            503,
            f"This server has all its {hub.max_streams} live streams open; try again soon.",
            headers={"Retry-After": "5"},
        )
    try:
        since, refused = _since(args)
        if since is None:  # from now on
            with connection() as conn:
                since = feed.begin_read(conn)
        who = principal()
        sub = Subscriber(who.operator_id, who.store_id, since, device_id)
        render = _map_item if device_id is None else _device_item(device_id)
        frames = _frames(hub, sub, render, refused, who.credential_id)
        body = stream_with_context(frames)
    except BaseException:
        hub.release()
        raise
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(body, mimetype="text/event-stream", headers=headers)


def _since(args: dict[str, Any]) -> tuple[Cursor | None, bool]:
    """The cursor to resume from (``Last-Event-ID`` first, then ``?cursor=``; None: now),
    and whether a ``Last-Event-ID`` was refused (the stream then says ``resync``)."""
    last = request.headers.get("Last-Event-ID")
    if last:
        try:
            return Cursor.parse(last), False
        except CursorError:
            return None, True
    token = args.get("cursor")
    return (Cursor.parse(token) if token else None), False


def _frames(
    hub: Hub,
    sub: Subscriber,
    render: Callable[[Any], tuple[str, bool]],
    refused: bool,
    credential_id: int,
) -> Iterator[str]:
    """The stream's text: retry, then events as the hub hands them over, a heartbeat every
    ``live_heartbeat_s`` with the caller checked again; ends on resync, on the caller's
    credential ceasing to work, or when the client goes away. A store that stops answering
    ends it with a resync: the page's reconnection gets the API's 503 until it is back."""
    try:
        yield sse.retry()
        if refused:
            yield sse.RESYNC
            return
        hub.subscribe(sub)
        heartbeat_s = current_app.config["CLOUD_CONFIG"].live_heartbeat_s
        gone = request.environ.get("waitress.client_disconnected", lambda: False)
        beat = time.monotonic() + heartbeat_s
        while True:
            item = sub.next(timeout=max(0.0, min(_CHECK_S, beat - time.monotonic())))
            if gone():
                return
            if item is RESYNC:
                yield sse.RESYNC
                return
            try:
                frame, last = render(item) if item is not None else ("", False)
                if time.monotonic() >= beat:
                    if not _still_signed_in(credential_id):
                        return
                    frame += sse.heartbeat()
                    beat = time.monotonic() + heartbeat_s
            except StoreUnavailable:
                log.warning("live stream: the store is unavailable; ending with a resync")
                yield sse.RESYNC
                return
            if frame:
                yield frame
            if last:
                return
    finally:
        hub.unsubscribe(sub)
        hub.release()


def _still_signed_in(credential_id: int) -> bool:
    with database().connection(scoped=False) as conn:
        return access.still_works(conn, credential_id)


def _map_item(item: str) -> tuple[str, bool]:
    return item, False  # serialised by the hub, once per scope


def _device_item(device_id: str) -> Callable[[DeviceNote], tuple[str, bool]]:
    """Render a note of the device's changes, read in the caller's scope: (frames, whether
    the device has gone, which ends the stream)."""

    def render(note: DeviceNote) -> tuple[str, bool]:
        frames = []
        with connection() as conn:
            if note.state:
                try:
                    state = _state_schema.dump(registry.state(conn, device_id))
                except NotFound:
                    gone = feed.to_json({"ids": [device_id]})
                    return sse.event("gone", gone, note.cursor), True
                frames.append(sse.event("state", _json(state), note.cursor))
            for cmd_id in note.commands:
                try:
                    command = _command_schema.dump(ledger.get(conn, cmd_id))
                except NotFound:  # issued before the caller's subtree held the device
                    continue
                frames.append(sse.event("command", _json(command), note.cursor))
            for alarm_id in note.alarms:
                try:
                    alarm = _alarm_schema.dump(alarms.get(conn, alarm_id))
                except NotFound:
                    continue
                frames.append(sse.event("alarm", _json(alarm), note.cursor))
        return "".join(frames), False

    return render


def _json(value: Any) -> str:
    return current_app.json.dumps(value, separators=(",", ":"))
