"""Running the platform: health (``health``, ``views/health``), ``doctor`` (``voltrent cloud
doctor``), payloads ingest could not store (``dead_letters``, ``views/dead_letters``), and
the MQTT broker's view of who may connect and what each may touch: credentials hashed as
Mosquitto wants them (``broker_accounts``), a device's own account as the API manages it
(``device_credentials``, ``views/broker_credentials``), the same topic rules as a function
(``broker_rules``, ``views/broker_auth`` for brokers that ask over HTTP) and the Mosquitto
password file and ACL (``broker_files``, ``voltrent cloud broker-config``). Request and
response schemas are in ``schemas``."""
