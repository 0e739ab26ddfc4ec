"""The story browser and story API (``monitor web``): see ``monitor.web.app``."""
