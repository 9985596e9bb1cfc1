# syntax=docker/dockerfile:1
# The Kheish daemon image (docs/operations-monitoring.md, "Container"; ops-runtime §14).
# Two stages: the first installs the production dependencies (and compiles better-sqlite3 when no
# prebuilt binary fits); the second carries only the runtime, runs as a non-root user under tini,
# and starts with the container defaults. CI does not build this image: test/deploy checks that
# every file it copies exists and that its defaults are the documented ones.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# What the daemon's tools use (bash, ripgrep, git), MCP child processes (procps), outbound TLS
# (ca-certificates), init and signal forwarding (tini), and the bash sandbox (bubblewrap; it only
# works where the container may create user namespaces, otherwise /v1/status warns).
# npm, npx and corepack are removed: the image runs the daemon, not arbitrary Node MCP servers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash ripgrep procps git ca-certificates tini bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && groupadd --system --gid 10001 kheish \
 && useradd --system --uid 10001 --gid kheish --home-dir /home/kheish --create-home --shell /bin/bash kheish \
 && mkdir -p /var/lib/kheish/state /workspace /etc/kheish \
 && chown kheish:kheish /var/lib/kheish /var/lib/kheish/state /workspace

WORKDIR /opt/kheish
COPY --from=deps /build/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY deploy/container/routes.example.toml /etc/kheish/routes.example.toml
RUN ln -s /opt/kheish/bin/kheish-daemon /usr/local/bin/kheish-daemon

# The container defaults (ops-runtime §3): listen on every interface, but only with bearer auth;
# absolute, distinct roots (KHEISH_STRICT_PATHS refuses anything else); no ambient MCP import.
ENV KHEISH_BIND=0.0.0.0:4000 \
    KHEISH_STATE_ROOT=/var/lib/kheish/state \
    KHEISH_WORKSPACE_ROOT=/workspace \
    KHEISH_HTTP_AUTH_MODE=bearer \
    KHEISH_MCP_DISCOVERY=disabled \
    KHEISH_STRICT_PATHS=true \
    KHEISH_LOG_FORMAT=json \
    NODE_ENV=production

USER kheish
VOLUME ["/var/lib/kheish/state", "/workspace"]
EXPOSE 4000
# /readyz needs no token; 503 while starting or draining.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/kheish-daemon"]
CMD ["serve"]
