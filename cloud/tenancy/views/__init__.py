"""The HTTP views of operators, stores and transfers: one module per blueprint."""
