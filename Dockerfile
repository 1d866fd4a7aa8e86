# syntax=docker/dockerfile:1
#
# Switchyard in a container: the gateway, the controller and every replica in one process tree.
#
#   docker build -t switchyard .
#   docker run --rm --init -p 8000:8000 switchyard                        # serves examples/hello
#   docker run --rm --init -p 8000:8000 -v "$PWD/my-app:/app/my-app:ro" \
#     switchyard run /app/my-app/serve.yaml --host 0.0.0.0               # your own spec
#
# The proxy listens on 0.0.0.0 (`--host`), so it is reachable through the published port. The
# admin API stays on the spec's admin.host, 127.0.0.1 by default: inside the container only, e.g.
#   docker exec CONTAINER switchyard status
# To reach the admin API from outside, give it a token and a non-loopback host; the gateway
# refuses a non-loopback admin host without SWITCHYARD_ADMIN_TOKEN (CONTRACT section 5):
#   docker run --rm --init -p 8000:8000 -p 8265:8265 -e SWITCHYARD_ADMIN_TOKEN="$(openssl rand -hex 32)" \
#     switchyard run /app/serve.yaml --host 0.0.0.0 --admin-host 0.0.0.0
#   switchyard status --address http://HOST:8265 --token "$TOKEN"    # or SWITCHYARD_ADMIN_TOKEN
# Pass the token with -e or an env file, never in the image. See docs/docker.md.

# ---- build: install everything, compile src/ -> dist/, then drop dev dependencies ----
FROM node:24-slim AS build
WORKDIR /opt/switchyard
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY src ./src
# `npm ci` runs the `prepare` script (tsc). The `node` devDependency pins Node 24 for development
# only; prune removes it with the other dev dependencies (tap, typescript): the runtime image's
# own Node 24 runs everything.
RUN npm ci \
 && npm prune --omit=dev \
 && npm cache clean --force

# ---- runtime: the package, its production dependencies, a non-root user ----
FROM node:24-slim
ENV NODE_ENV=production
# Root-owned and read-only for the user that runs it: a handler cannot rewrite the gateway.
COPY --from=build /opt/switchyard/package.json /opt/switchyard/package.json
COPY --from=build /opt/switchyard/node_modules /opt/switchyard/node_modules
COPY --from=build /opt/switchyard/dist /opt/switchyard/dist
COPY --from=build /opt/switchyard/bin /opt/switchyard/bin
COPY --from=build /opt/switchyard/schemas /opt/switchyard/schemas
# A default application, so the image runs as built; mount or COPY your own over /app.
COPY examples/hello/ /app/
# `switchyard` on PATH; and handlers under /app can `import ... from 'switchyard'` (Node's ESM
# resolution looks in /app/node_modules, and ignores NODE_PATH).
RUN ln -s /opt/switchyard/bin/switchyard.js /usr/local/bin/switchyard \
 && mkdir -p /app/node_modules \
 && ln -s /opt/switchyard /app/node_modules/switchyard
WORKDIR /app
# The `node` user (uid 1000) of the official image. Replicas are child processes of the gateway
# and run as this user too; their Unix sockets live in /tmp.
USER node
# 8000: the proxy (http_options.port); 8265: the admin API (admin.port; see above).
EXPOSE 8000 8265
# The proxy's own health endpoint: 200 while serving, 503 while draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/-/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains in-flight requests and stops every replica. Give `docker stop`
# more than the deployments' graceful_shutdown_timeout_s (default 20 s): `docker stop -t 30`.
# Run with --init so a process that a handler orphans is reaped.
ENTRYPOINT ["switchyard"]
CMD ["run", "/app/serve.yaml", "--host", "0.0.0.0"]
