# The service's image, built from the lock files (deps/lock/, hashes checked), in two stages:
# the first builds the venv, the second holds the venv and nothing that built it.
#
#   docker build -t matcher .                      the service with PostgreSQL (deps/lock/base.txt)
#   docker build --build-arg EXTRAS=ocr -t matcher .   + reading scans and photos, charts
#   docker build --build-arg EXTRAS=all -t matcher .   every extra: both OCR engines, Celery
ARG PYTHON=python:3.11-slim

FROM ${PYTHON} AS build
ARG EXTRAS=base
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY deps ./deps
# Exactly the locked packages. paddlex (in "all") pins the GUI OpenCV: its stand-in keeps the
# headless one, so the image needs no libGL.
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r "deps/lock/${EXTRAS}.txt" \
    && if [ "${EXTRAS}" = all ]; then \
        /opt/venv/bin/pip install --no-deps ./deps/opencv-headless-shim; fi
COPY pyproject.toml README.md ./
COPY matcher ./matcher
COPY adapters ./adapters
COPY schemas ./schemas
# --no-deps: everything it needs came from the lock; a wheel, not an editable install
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/pip check

FROM ${PYTHON}
ARG EXTRAS=base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    MATCHER_STATE_DIR=/var/lib/matcher
# fonts-noto-cjk: the Chinese labels of the charts, which only the images with matplotlib draw.
RUN if [ "${EXTRAS}" != base ]; then \
        apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk \
        && rm -rf /var/lib/apt/lists/*; fi \
    && useradd --system --create-home --home-dir /var/lib/matcher matcher
COPY --from=build /opt/venv /opt/venv

USER matcher
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# Mount a config at /etc/matcher/matcher.toml (catalog, trust store, database, registries).
CMD ["matcher", "serve", "--config", "/etc/matcher/matcher.toml", "--host", "0.0.0.0", "--port", "8000"]
