# syntax=docker/dockerfile:1
# tally-lrs: build the wheels in one stage, install them into a slim runtime in the next.
# The image is configured only through LRS_* environment variables (see .env.example).

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lrs/ lrs/
COPY statements/ statements/
COPY aggregation/ aggregation/
COPY plugins/ plugins/
# The project's wheel and every dependency's, so the runtime installs offline.
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LRS_HOST=0.0.0.0 \
    LRS_DATA_DIR=/data
RUN groupadd --system --gid 10001 lrs \
    && useradd --system --uid 10001 --gid lrs --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin lrs \
    && mkdir /data && chown lrs:lrs /data
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels tally-lrs
USER lrs
VOLUME ["/data"]
EXPOSE 8000
# /health/ready needs no credentials: 200 once the store answers; follows LRS_PORT if set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('LRS_PORT', '8000'), timeout=4)"]
CMD ["lrs", "serve"]
