"""Running the platform: health (``views/health``), ``doctor`` (``voltrent cloud doctor``),
payloads ingest could not store (``views/dead_letters``), and the MQTT broker's view of who
may connect and what each may touch: credentials hashed as Mosquitto wants them
(``broker_accounts``, ``views/broker_credentials``), the same topic rules as a function
(``broker_rules``, ``views/broker_auth`` for brokers that ask over HTTP) and the Mosquitto
password file and ACL (``broker_files``, ``voltrent cloud broker-config``)."""
