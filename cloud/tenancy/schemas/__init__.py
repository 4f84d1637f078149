"""Request and response schemas of operators (``operators``) and stores (``stores``)."""
