"""The HTTP views of webhooks and their deliveries."""
