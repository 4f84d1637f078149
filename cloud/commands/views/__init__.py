"""The HTTP views of commands, lease terms and command keys: one module per blueprint."""
