# The monitor's image: every `monitor` subcommand (docker-compose.yml runs poll, worker,
# dispatch). Build: docker build -t arabic-news-monitor .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY monitor ./monitor
RUN pip install . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin monitor
COPY config ./config

USER monitor
EXPOSE 9464
CMD ["monitor", "--help"]
