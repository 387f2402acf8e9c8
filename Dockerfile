# Vitrine container image.
#   build:  docker build -t vitrine .        (podman: podman build --network host -t vitrine .)
#   run:    docker run --rm -p 8080:8080 --shm-size=1g -e VITRINE_JWT_SECRET=... vitrine
# See docs/deployment.md for the operator's notes (shared memory, sandbox and browser user,
# capabilities, read-only root).

# --- build stage: install dependencies and bundle the web client -----------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=1 NODE_ENV=production
COPY package.json package-lock.json .puppeteerrc.cjs ./
# Production dependencies only; no install scripts run (puppeteer must not fetch a browser).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY server ./server
COPY client ./client
COPY policies ./policies
RUN node --import tsx client/build.ts && rm -rf client/src client/static

# --- helper stage: the browser user switch (deploy/container/vitrine-browser-exec.c) ----------
# A tiny C program that can make exactly one identity, the browser user's (compiled in), so that
# the server (uid 10001) starts browsers as uid 10002 without ever being able to become root.
FROM debian:bookworm-slim AS helper
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/container/vitrine-browser-exec.c /src/
RUN gcc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now \
      -DBROWSER_UID=10002 -DBROWSER_GID=10002 -o /src/vitrine-browser-exec /src/vitrine-browser-exec.c

# --- runtime stage: Debian slim + Debian's headless Chromium, no build tools -----------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium-headless-shell fonts-liberation fonts-dejavu-core fonts-noto-color-emoji tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --system --gid 10001 vitrine \
 && useradd --system --uid 10001 --gid vitrine --home-dir /home/vitrine --create-home --shell /usr/sbin/nologin vitrine \
 && install -d -o vitrine -g vitrine -m 0700 /var/lib/vitrine
# The browser user (its own group, no login, no home) and the helper that switches to it:
# root:vitrine 0750, so only the server's group can run it, with cap_setuid,cap_setgid+ep and
# nothing else. libcap2-bin (setcap) is installed and purged within this one layer. The file
# capabilities need CAP_SETUID and CAP_SETGID in the container's bounding set and no
# no-new-privileges (docs/deployment.md); without them the server refuses to start.
COPY --from=helper /src/vitrine-browser-exec /usr/local/libexec/vitrine/vitrine-browser-exec
RUN groupadd --system --gid 10002 vitrine-browser \
 && useradd --system --uid 10002 --gid vitrine-browser --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vitrine-browser \
 && chmod 0700 /home/vitrine \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcap2-bin \
 && chown root:vitrine /usr/local/libexec/vitrine/vitrine-browser-exec \
 && chmod 0750 /usr/local/libexec/vitrine/vitrine-browser-exec \
 && setcap cap_setuid,cap_setgid+ep /usr/local/libexec/vitrine/vitrine-browser-exec \
 && getcap /usr/local/libexec/vitrine/vitrine-browser-exec | grep -q 'cap_setgid,cap_setuid=ep' \
 && DEBIAN_FRONTEND=noninteractive apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build --chown=root:root /app /app
ENV NODE_ENV=production \
    VITRINE_HOST=0.0.0.0 \
    VITRINE_PORT=8080 \
    CHROMIUM_PATH=/usr/lib/chromium/chromium-headless-shell \
    VITRINE_DATA_DIR=/var/lib/vitrine \
    TMPDIR=/tmp \
    HOME=/home/vitrine
# Audit trail and encrypted recordings: mount a persistent volume here.
VOLUME ["/var/lib/vitrine"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.VITRINE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini is PID 1: it forwards SIGTERM to node (npm would not) and reaps Chromium's zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "server/main.ts"]
