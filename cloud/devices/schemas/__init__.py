"""Request and response schemas of devices (``devices``) and their history (``history``)."""
