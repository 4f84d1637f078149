"""Numbered migration files rewritten on purpose after stores had applied them.

A store records the checksum of every step it applied, and migrate reports a step whose file
no longer has it as ``changed`` (an edit nobody meant to ship). A reviewed rewrite that leaves
the schema as it was is listed here instead: step name -> {the checksum a store recorded: the
checksum of the file that replaces it}. migrate gives such a store the new checksum without a
warning; a file edited again (its checksum is not the one listed) is reported as before.
"""

from __future__ import annotations

# Issue 14: every function, trigger and row-level policy moved out of the numbered files into
# cloud/migrations/repeatable/ (the old texts: tests/data/migrations_ec8bef6.tar.gz; the
# upgrade of a store they made is tested in tests/cloud/test_migrate_upgrade.py).
REWRITES: dict[str, dict[str, str]] = {
    "0001_registry": {"3c55e7f4ed67bf31": "a4b44c43f70684f3"},
    "0002_timeseries": {"9be715b0d9d20971": "ff5c4bbedc64e72e"},
    "0006_commands": {"16ca15e856cbaeca": "e1553c5386fdfbe6"},
    "0008_alarms": {"afb24bfc9675020e": "3944580fc22d81cb"},
    "0009_notifications": {"fd89fa0637cadd28": "03f940fbb9669bff"},
    "0011_tenancy": {"3cf0e9514abc8204": "15643e169b79470e"},
    "0013_device_identity": {"c1bdd0c3e89c21b4": "16565ee2eec0784c"},
    "0014_store_walls": {"1766dbe086e28fd8": "243f2c13bc82512e"},
}
