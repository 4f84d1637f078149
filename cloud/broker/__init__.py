"""The MQTT broker's view of who may connect and what each may touch.

``accounts``: device and service credentials (random passwords, stored hashed the way
Mosquitto's password file wants them). ``files``: the Mosquitto password file and ACL written
from them (``voltrent cloud broker-config``).
"""
