# Images of the crypto assistant, one Dockerfile, three targets:
#   api  crypto-assistant serve --host 0.0.0.0 (REST API + Chainlit web chat at /ui)  [default]
#   bot  crypto-assistant bot (Telegram polling)
#   job  one-shot commands: db upgrade, data import, knowledge ingest, models train ...
# Build: make images (docker build --target api|bot|job). No secrets are baked in: every
# setting comes from the environment at run time (docker compose's env_file).

# ---------------------------------------------------------------------------------------------
# builder: a virtualenv with CPU-only torch, the project's dependencies and the project itself
FROM python:3.11-slim AS builder

# torch comes from the PyTorch CPU index BEFORE the project, pinned, so pip never resolves a
# multi-GB CUDA build from PyPI; the same pin is a constraint for everything installed after.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# compilers only for a dependency that ships no wheel; this stage is not shipped
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" \
    && echo "torch==${TORCH_VERSION}" > /opt/constraints.txt

WORKDIR /app

# dependencies first (their layer is reused until pyproject.toml changes), read from
# pyproject.toml with the standard library's tomllib
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(chr(10).join(deps))" > /opt/requirements.txt \
    && pip install --no-cache-dir -r /opt/requirements.txt -c /opt/constraints.txt

# then the project, installed editable so that ui/ keeps its .chainlit/config.toml, public/ and
# chainlit.md beside the code (Chainlit reads them from the package folder)
COPY . .
RUN pip install --no-cache-dir --no-deps -c /opt/constraints.txt -e . \
    && python -c "import torch; assert not torch.version.cuda, 'CUDA build of torch installed'" \
    && crypto-assistant --help > /dev/null

# ---------------------------------------------------------------------------------------------
# runtime: the slim base shared by every target; no compilers, non-root user 10001
FROM python:3.11-slim AS runtime

# chromium: kaleido renders PNG charts with it (web chat, Telegram /chart); tini: PID 1 that
# forwards signals and reaps chromium's children; fonts for chart text
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core tini \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/app --create-home \
       --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY docker/healthcheck.py /usr/local/bin/healthcheck

# code stays root-owned (read-only to the app); only state is writable: DATA_HOME (models,
# an embedded database when DATABASE_URL is unset) and the files Chainlit writes at start-up
RUN chmod 0755 /usr/local/bin/healthcheck \
    && mkdir -p /data/models /app/ui/.files /app/ui/.chainlit/translations \
    && chown -R 10001:10001 /data /app/ui/.files /app/ui/.chainlit

ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app \
    DATA_HOME=/data \
    MODEL_DIR=/data/models \
    BROWSER_PATH=/usr/bin/chromium \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "crypto-assistant"]
CMD ["--help"]

# ---------------------------------------------------------------------------------------------
# job: one-shot commands, e.g. `docker compose run --rm job models train --all`
FROM runtime AS job
USER 10001:10001
HEALTHCHECK NONE
CMD ["db", "upgrade"]

# ---------------------------------------------------------------------------------------------
# bot: the Telegram bot alone (needs TELEGRAM_BOT_TOKEN); healthy while its process runs
FROM runtime AS bot
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["healthcheck", "process", "crypto-assistant", "bot"]
CMD ["bot"]

# ---------------------------------------------------------------------------------------------
# api: the REST API with the Chainlit web chat at /ui (the default target: last stage)
FROM runtime AS api
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["healthcheck", "http", "http://127.0.0.1:8000/health"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
