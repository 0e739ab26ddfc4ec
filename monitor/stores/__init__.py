"""State behind small async store interfaces: Redis in service mode, in-process in embedded mode."""
