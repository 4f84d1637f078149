"""The HTTP views of devices: one module per blueprint."""
