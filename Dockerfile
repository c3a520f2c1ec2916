# The same install as the README, as a non-root user, with a health check.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MATCHER_STATE_DIR=/var/lib/matcher
# opencv-contrib-python (pinned by paddlex) is the GUI build: it needs libGL and GLib at import.
# fonts-noto-cjk: the Chinese labels of the data-problem assessment chart.
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --home-dir /var/lib/matcher matcher
WORKDIR /opt/matcher
COPY pyproject.toml README.md ./
COPY matcher ./matcher
COPY adapters ./adapters
COPY schemas ./schemas
RUN python -m pip install '.[postgres]'

USER matcher
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# Mount a config at /etc/matcher/matcher.toml (catalog, trust store, database, registries).
CMD ["matcher", "serve", "--config", "/etc/matcher/matcher.toml", "--host", "0.0.0.0", "--port", "8000"]
