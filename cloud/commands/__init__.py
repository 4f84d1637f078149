"""Commands and lease terms: the API writes them as rows (``issuing``, ``ledger``,
``leases``; views in ``views/``), each device's command key signs them (``keys``,
``provisioning``), and the dispatcher publishes them to ``down/cmd`` and ``down/lease``
(``dispatcher``, ``outbox``, ``publisher``). ``states`` is the command state machine: every
part that moves a command (the API, the dispatcher, the writer of acks, a transfer) does it
with its statements.

The dispatcher runs inside the cloud worker; one worker at a time is the leader (a
PostgreSQL advisory lock), the others stand by and take over when it dies.
"""
