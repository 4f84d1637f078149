"""The live feed behind the console's map and device page.

``feed`` holds the SQL: the compact row of a device, the snapshot of the caller's devices,
and what changed since a ``cursor``. ``hub`` is the one thread per API process that learns
of commits by LISTEN/NOTIFY (with a slow fallback poll), reads what changed once, and hands
it to its ``Subscriber``s, filtered per scope and serialised once per scope. ``views/``
serves the snapshot and the server-sent event streams (``sse`` spells their frames).
"""
