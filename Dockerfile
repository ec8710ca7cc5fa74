# The handoff bot as a container image (docs/container.md): `docker build -t handoff-bot .`
#
# Two stages. The builder installs the pinned runtime dependencies of pyproject.toml (never
# its dev extras) into a virtualenv; the final image gets that virtualenv and the bot's own
# source, and nothing else: no pip cache, no tests, no playground, no node_modules.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build
# Only what decides the dependencies, so that a code change does not reinstall them.
COPY pyproject.toml ./
COPY scripts/runtime_requirements.py scripts/
RUN python scripts/runtime_requirements.py pyproject.toml > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --requirement requirements.txt


FROM python:3.11-slim-bookworm

# A fixed uid/gid, so that a mounted volume's owner and a platform's runAsUser can name it.
RUN groupadd --system --gid 10001 handoff \
    && useradd --system --no-log-init --uid 10001 --gid handoff \
        --home-dir /app --shell /usr/sbin/nologin handoff

# HOST=0.0.0.0: without a MicrosoftAppId (local mode) config/settings.py listens on 127.0.0.1
# unless HOST is set, and inside a container that is the container's own loopback, which
# `docker run -p`, compose's port mappings and Azure Container Apps' ingress and probes
# cannot reach (only the HEALTHCHECK below runs inside). With credentials it is 0.0.0.0
# anyway. Local mode is unauthenticated: publish its port on the host's loopback only
# (`-p 127.0.0.1:3978:3978`, as compose.yaml does).
#
# PYTHONOPTIMIZE=2 (python -OO): no docstrings in memory, ~3.5 MB less RSS (the SDK's are
# long); asserts are off too, and the bot's own only narrow types. The bytecode compiled
# below is compiled at that level, the virtualenv's included, or every start would compile
# it again (the bot's user cannot write it).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONOPTIMIZE=2 \
    HOST=0.0.0.0 \
    PORT=3978

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The packages app.py imports (tests/ship/test_dockerfile.py checks this list against them).
COPY app.py ./
COPY application/ application/
COPY caches/ caches/
COPY cards/ cards/
COPY config/ config/
COPY dialogs/ dialogs/
COPY graph/ graph/
COPY handoff/ handoff/
COPY i18n/ i18n/
COPY outbox/ outbox/
COPY storage/ storage/
COPY teams/ teams/
# The code stays root's and read-only to the bot; bytecode is compiled now, as the bot's user
# could not write it. data/ is the bot's own, for the default SQLite database (one container,
# local use: mount a volume there to keep it; several replicas need PostgreSQL).
RUN python -m compileall -q /opt/venv /app \
    && install -d -o handoff -g handoff -m 0700 /app/data

# Numeric, so that a platform can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 3978

# /healthz answers once the bot serves; no curl in a slim image, so Python's own urllib.
# Exec form: PORT is read from the container's environment by Python, not by a shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=4)"]

# Exec form, so that python is PID 1 and receives SIGTERM itself: aiohttp's run_app turns it
# into a clean shutdown that stops the outbox worker (log line "outbox worker stopped").
CMD ["python", "app.py"]
