"""Commands and lease terms: the API writes them as rows (``views/commands``,
``views/leases``), each device's command key signs them (``keys``, ``views/command_keys``),
and the dispatcher publishes them to ``down/cmd`` and ``down/lease`` (``dispatcher``,
``outbox``, ``publisher``).

The dispatcher runs inside the cloud worker; one worker at a time is the leader (a
PostgreSQL advisory lock), the others stand by and take over when it dies.
"""
