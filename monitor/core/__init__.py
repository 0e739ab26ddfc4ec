"""The pipeline core: plain typed Python, no I/O, no Kafka, Redis, HTTP or Prometheus."""
