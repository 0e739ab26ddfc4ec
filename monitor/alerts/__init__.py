"""Subscriptions, channels and the alert dispatcher."""
