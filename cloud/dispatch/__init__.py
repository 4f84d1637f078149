"""The command dispatcher and lease publisher: store rows -> ``down/cmd`` and ``down/lease``.

Runs inside the cloud worker; one worker at a time is the leader (a PostgreSQL advisory
lock), the others stand by and take over when it dies. See dispatcher.py.
"""
