# syntax=docker/dockerfile:1
# Vitalwire: one process (broker, ingest, alerts, dashboard). Node 24 runs the TypeScript sources
# directly (type stripping), so there is no compile step; the build stage only bundles the web UI.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: the postinstall (web bundle) needs the sources, copied below.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build:web

FROM node:24-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    VITALWIRE_DATA_DIR=/data \
    VITALWIRE_MQTT_HOST=0.0.0.0 \
    VITALWIRE_MQTT_PORT=8883 \
    VITALWIRE_HTTP_PORT=8080 \
    VITALWIRE_HTTP_HOST=0.0.0.0
# VITALWIRE_HTTP_HOST: any non-loopback bind (0.0.0.0 here, so the port can be published) makes
# HTTPS mandatory. Without VITALWIRE_TLS_CERT/VITALWIRE_TLS_KEY the development CA in /data/pki signs
# a certificate for localhost only: mount a real certificate for anything but a local trial.
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root . .
COPY --from=build --chown=root:root /app/dashboard/web/dist ./dashboard/web/dist
# The app is root-owned and read-only to the runtime user; only the data dir is writable, owner-only.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 8883 8080
# Readiness, not liveness: 200 for ready and degraded (InfluxDB backlog draining), 503 when down.
# The probe stays on loopback and sends nothing secret, so it skips verifying the dev certificate.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=process.env.VITALWIRE_HTTP_PORT;const h=process.env.VITALWIRE_HTTP_HOST;const m=/^(127\\.|localhost$|::1$)/.test(h)?require('node:http'):require('node:https');m.get({host:'127.0.0.1',port:p,path:'/readyz',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
CMD ["node", "cli/vitalwire.ts", "start"]
