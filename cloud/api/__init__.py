"""The cloud REST API: a Flask app with flask-smorest, OpenAPI 3 at /api/openapi.json and
Swagger UI at /api/docs.

``create_app()`` builds it from a CloudConfig; ``cloud.api.server.serve()`` runs it under
waitress. Each resource is one Blueprint (devices, unknown devices, history, fleet,
commands, leases, geofences, alarms, alarm profiles, webhooks, dead letters,
health);
every error is an RFC 9457 problem (problems.py).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cloud.access import guard
from cloud.api import (
    accounts,
    alarm_profiles,
    alarms,
    audit,
    auth,
    auth_totp,
    broker_auth,
    broker_credentials,
    command_keys,
    commands,
    dead_letters,
    devices,
    docs,
    fleet,
    geofence_events,
    geofences,
    health,
    history,
    leases,
    operators,
    roles,
    stores,
    tokens,
    transfers,
    unknown_devices,
    webhooks,
)
from cloud.api.db import init_database
from cloud.api.device_schemas import DeviceIdConverter, device_id_parameter
from cloud.api.encoding import JSONProvider, Request, refuse_unstorable_text
from cloud.api.problems import Api, register_problem_handlers
from cloud.config import CloudConfig

API_VERSION = "1"
# A CSV import of a few thousand devices is well under this; anything bigger is a mistake.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def create_app(config: CloudConfig | None = None) -> Flask:
    """The API as a WSGI app; configuration from the environment when ``config`` is None."""
    config = config or CloudConfig.from_env()
    # static_folder=None: the API has no static files of its own (docs.py serves Swagger UI)
    app = Flask("voltrent.api", static_folder=None)
    app.json = JSONProvider(app)
    app.request_class = Request
    app.config.update(
        API_TITLE="VoltRent API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        CLOUD_CONFIG=config,  # session lifetimes, the command key
    )
    docs.configure_docs(app)
    app.url_map.converters["device_id"] = DeviceIdConverter
    api = Api(app)
    api.register_converter(DeviceIdConverter, device_id_parameter)
    blueprints = (
        devices, unknown_devices, history, fleet, commands, leases, geofences, geofence_events,
        alarms, alarm_profiles, webhooks, broker_auth, broker_credentials, dead_letters, health,
        auth, auth_totp, tokens, accounts, roles, operators, stores, transfers, audit,
        command_keys,
    )  # fmt: skip
    for blueprint in (module.blp for module in blueprints):
        api.register_blueprint(blueprint)
    register_problem_handlers(app)
    command_keys.init_app(app, config)
    # before the guard, which looks up path parameters in the store
    app.before_request(refuse_unstorable_text)
    guard.install(app, api.spec)
    init_database(app, config.database_url, config.api_db_role)
    if config.trusted_proxies:
        # werkzeug's ProxyFix takes the client address from the last N X-Forwarded-For
        # entries (the ones our own proxies added), never from what the client wrote
        hops = config.trusted_proxies
        # Flask's documented way to wrap the app in WSGI middleware; its types call it a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app
