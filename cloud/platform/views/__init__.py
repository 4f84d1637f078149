"""The HTTP views of health, dead letters and the broker: one module per blueprint."""
