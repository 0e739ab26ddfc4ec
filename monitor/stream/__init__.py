"""The Faust app, its topics and agents: thin adapters around the core."""
