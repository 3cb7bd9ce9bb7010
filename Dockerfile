# The loyalty processing center daemon (SPEC O4).
#
#   docker build -t loyalty .
#   docker run -d -p 7700:7700 -p 7780:7780 -v loyalty-data:/data loyalty
#
# Ports: 7700 POS WebSocket (/pos), 7701 admin channel, 7780 HTTP (/healthz,
# /readyz, /metrics). State lives in the /data volume (LMDB environment and,
# on first start, demo-credentials.json).
#
# Dependencies are installed with --ignore-scripts, as npm 11 does by default:
# lmdb, msgpackr-extract and uWebSockets.js ship prebuilt binaries for glibc
# Linux, so no compiler is needed and no install script runs.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LOYALTY_DATA_DIR=/data \
    LOYALTY_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The code stays owned by root (read-only to the daemon); only /data is writable.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# 7700 POS, 7780 health/metrics, 7701 admin, 7702 replication. The admin and
# replication ports bind to loopback unless LOYALTY_ADMIN_HOST /
# LOYALTY_REPLICATION_HOST say otherwise (e.g. 0.0.0.0 on a management network).
EXPOSE 7700 7701 7702 7780
# node:*-slim has no curl; Node 20's fetch does the probe (on LOYALTY_HTTP_PORT when it is overridden).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.LOYALTY_HTTP_PORT || 7780}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/daemon/main.js"]
