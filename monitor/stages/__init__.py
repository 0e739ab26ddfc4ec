"""Stage adapters: async functions that call the pure core and the stores, and record metrics.

Each module ``monitor/stages/<stage>.py`` exposes one ``async def <stage>_stage(...)``. The
embedded pipeline and the Faust agents (``monitor/stream/<stage>_agent.py``) both call these
functions, so the two modes run the same code. Adapters never talk to Kafka: the agent or the
embedded loop decides where a result goes.
"""
