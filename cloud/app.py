"""The cloud REST API: a Flask app with flask-smorest, OpenAPI 3 at /api/openapi.json and
Swagger UI at /api/docs.

``create_app()`` builds it from a CloudConfig and registers every context's blueprints
(``cloud/<context>/views/``) under ``/api``; ``cloud.server.serve()`` runs it under
waitress. Every error is an RFC 9457 problem (``cloud/http/problems.py``); the guard
(``cloud/identity/guard.py``) checks each endpoint's access rule before its view runs.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cloud.commands.views import command_keys, commands, leases
from cloud.config import CloudConfig
from cloud.console import pages as console
from cloud.devices.schemas.devices import DeviceIdConverter, device_id_parameter
from cloud.devices.views import devices, fleet, history, unknown_devices
from cloud.http import docs
from cloud.http.db import init_database
from cloud.http.encoding import JSONProvider, Request, refuse_unstorable_text
from cloud.http.problems import Api, register_problem_handlers
from cloud.identity import guard
from cloud.identity.views import accounts, audit, auth, auth_totp, roles, tokens
from cloud.live.views import live
from cloud.notify.views import webhooks
from cloud.platform.views import broker_auth, broker_credentials, dead_letters, health
from cloud.rules.views import alarm_profiles, alarms, geofence_events, geofences
from cloud.tenancy.views import operators, stores, transfers

API_VERSION = "1"
API_PREFIX = "/api"
# A CSV import of a few thousand devices is well under this; anything bigger is a mistake.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def create_app(config: CloudConfig | None = None) -> Flask:
    """The API as a WSGI app; configuration from the environment when ``config`` is None."""
    config = config or CloudConfig.from_env()
    # static_folder=None: the API has no static files of its own (cloud/http/docs.py serves
    # Swagger UI)
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
        command_keys, live,
    )  # fmt: skip
    for blueprint in (module.blp for module in blueprints):
        # /api set here once: each blueprint carries only its own part of the path
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + (blueprint.url_prefix or ""))
    register_problem_handlers(app)
    command_keys.init_app(app, config)
    live.init_app(app, config)
    # before the guard, which looks up path parameters in the store
    app.before_request(refuse_unstorable_text)
    guard.install(app, api.spec)
    init_database(app, config.database_url, config.api_db_role)
    console.init_app(app)
    if config.trusted_proxies:
        # werkzeug's ProxyFix takes the client address from the last N X-Forwarded-For
        # entries (the ones our own proxies added), never from what the client wrote
        hops = config.trusted_proxies
        # Flask's documented way to wrap the app in WSGI middleware; its types call it a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app
