# syntax=docker/dockerfile:1
# The bot, and only the bot: bot/ and cogs/ go in; the fakes, tests and benchmarks stay out.
# tests/docker/test_dockerfile.py reads this file with Docker's own parser and replays its build without Docker.
FROM python:3.11-slim

# METRICS_PORT turns on the bot's HTTP endpoint (/healthz, /readyz, /metrics), which the HEALTHCHECK below calls.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=8080

# A fixed uid, so a volume keeps its owner across rebuilds. First, because this layer never changes.
RUN useradd --create-home --uid 10001 botuser \
    && mkdir -p /app/data \
    && chown botuser:botuser /app/data

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python - <<'PY'
import subprocess, sys, tomllib
dependencies = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
subprocess.run([sys.executable, "-m", "pip", "install", *dependencies], check=True)
PY

COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps .

USER botuser
# Jobs live in /app/data/bot.db by default: mount a volume there so they survive redeploys.
VOLUME ["/app/data"]
EXPOSE 8080
# The standard library only: the slim image has no curl. Exit 1 (unhealthy) on a refused connection or a non-2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${METRICS_PORT}/healthz', timeout=4)"
# docker stop sends SIGTERM: the bot stops taking jobs, finishes its writes and leaves Scenario jobs resumable.
STOPSIGNAL SIGTERM
# The image is the bot: `docker run IMAGE --help` passes --help to it.
ENTRYPOINT ["python", "-m", "bot"]
