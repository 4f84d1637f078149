"""The cloud side of VoltRent, one package per context. Never imported by the edge agent; a
gateway box does not install it.

Contexts (each owns its SQL and operations at its root, its request/response schemas in
``schemas``, and its HTTP views, one module per blueprint, in ``views/``):

- ``devices``: the registry, unknown devices, owners of new objects, the CSV import,
  telemetry history and the fleet summary.
- ``commands``: commands, lease terms, command keys, and the dispatcher that publishes
  them to ``down/cmd`` and ``down/lease``.
- ``rules``: alarms, alarm profiles, geofences, fence crossings, and the rule engine that
  evaluates every stored batch and sweeps for silent devices.
- ``notify``: webhooks and the notifier that delivers alarm notifications to them.
- ``tenancy``: operators, stores and device transfers.
- ``identity``: accounts, sign-in and sessions, tokens, roles, TOTP, the audit log,
  passwords, permissions, the caller of a request (principal), ``scope`` (the one "in the
  caller's subtree" rule) and each endpoint's access rule (guard, throttle).
- ``platform``: health, ``doctor``, dead letters, and the MQTT broker's accounts, rules
  and files.
- ``live``: the live feed of the console's map and device page: the columnar snapshot,
  the change cursor, the hub that reads each batch of commits once, and the event streams.
- ``console``: the operators' web pages at ``/`` (frames, scripts, catalogs, vendored
  libraries); they hold no authority: every datum comes from ``/api``.

Around them: ``ingest`` (MQTT uplink -> rows -> the store), ``store`` and ``migrations``
(connections, migrations, partitions, retention), ``http`` (the API's plumbing:
pool, problems, paging, encoding, blueprint base, Swagger UI; it imports no context),
``app`` (``create_app()``, every blueprint under ``/api``), ``server`` (waitress),
``worker`` (the worker process composed from its parts) and ``cli``
(``voltrent cloud ...``); ``config`` (with ``allow_list``, the webhook receivers it reads),
``errors`` and ``mqtt_client`` are shared by all.
"""
