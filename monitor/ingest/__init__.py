"""Feed configuration, fetching, parsing and the poller service."""
