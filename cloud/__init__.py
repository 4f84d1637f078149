"""The cloud side: ingest worker, time-series store, REST API (and later rules, commands,
the rental domain). Never imported by the edge agent; a gateway box does not install it."""
