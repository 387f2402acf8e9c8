# Vitrine container image.
#   build:  docker build -t vitrine .        (podman: podman build --network host -t vitrine .)
#   run:    docker run --rm -p 8080:8080 --shm-size=1g -e VITRINE_JWT_SECRET=... vitrine
# See docs/deployment.md for the operator's notes (shared memory, sandbox and browser user,
# capabilities, read-only root).

# --- build stage: the web client and the server compiled to JavaScript (esbuild) -------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
ENV PUPPETEER_SKIP_DOWNLOAD=1
COPY package.json package-lock.json .puppeteerrc.cjs ./
# All dependencies (esbuild and tsx are dev dependencies); no install scripts run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY server ./server
COPY client ./client
COPY policies ./policies
# dist/: the server bundles, the in-page scripts, the demo site, the policies, the client.
RUN node --import tsx client/build.ts && node --import tsx server/build.ts

# --- dependencies stage: only what the bundles import from node_modules ----------------------
# Production dependencies, without the optional and peer ones (TypeScript would come in as
# cosmiconfig's optional peer); no install scripts run (puppeteer must not fetch a browser).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=1
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --omit=dev --omit=optional --omit=peer --ignore-scripts --no-audit --no-fund \
 && find node_modules \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -type f -delete

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

# --- runtime stage: Node 24 LTS + Debian's headless Chromium, no build tools ----------------
FROM node:24-bookworm-slim AS runtime
# The browser user switch (deploy/container/vitrine-browser-exec.c): root:vitrine 0750, so only
# the server's group can run it, with cap_setuid,cap_setgid+ep and nothing else. The file
# capabilities need CAP_SETUID and CAP_SETGID in the container's bounding set and no
# no-new-privileges (docs/deployment.md); without them the server refuses to start.
COPY --from=helper /src/vitrine-browser-exec /usr/local/libexec/vitrine/vitrine-browser-exec
# One layer, so that what it removes is really gone from the image:
#  - Debian's headless Chromium, fonts, tini; no documentation, manual pages or translations;
#  - the server user (10001) and the browser user (10002, its own group, no login, no home);
#  - libcap2-bin (setcap), installed and purged here;
#  - Mesa's GPU drivers and the LLVM they pull in (about 165 MB): Chromium runs with
#    --disable-gpu and never loads them; Vulkan's validation layer and mock driver (debugging
#    only); the full browser's resources (resources.pak, scale packs, locales): the headless
#    shell carries its own (headless_lib_*.pak);
#  - the package lists and apt's caches.
RUN printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' \
      'path-exclude=/usr/share/lintian/*' >/etc/dpkg/dpkg.cfg.d/90-vitrine-slim \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium-headless-shell fonts-liberation fonts-dejavu-core fonts-noto-color-emoji tini ca-certificates libcap2-bin \
 && groupadd --system --gid 10001 vitrine \
 && useradd --system --uid 10001 --gid vitrine --home-dir /home/vitrine --create-home --shell /usr/sbin/nologin vitrine \
 && install -d -o vitrine -g vitrine -m 0700 /var/lib/vitrine \
 && groupadd --system --gid 10002 vitrine-browser \
 && useradd --system --uid 10002 --gid vitrine-browser --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vitrine-browser \
 && chmod 0700 /home/vitrine \
 && chown root:vitrine /usr/local/libexec/vitrine/vitrine-browser-exec \
 && chmod 0750 /usr/local/libexec/vitrine/vitrine-browser-exec \
 && setcap cap_setuid,cap_setgid+ep /usr/local/libexec/vitrine/vitrine-browser-exec \
 && getcap /usr/local/libexec/vitrine/vitrine-browser-exec | grep -q 'cap_setgid,cap_setuid=ep' \
 && DEBIAN_FRONTEND=noninteractive apt-get purge -y --auto-remove libcap2-bin \
 && dpkg --purge --force-depends libgl1-mesa-dri libllvm15 libz3-4 \
 && rm -rf /usr/lib/chromium/libVkLayer_khronos_validation.so* /usr/lib/chromium/libVkICD_mock_icd.so* \
      /usr/lib/chromium/resources.pak /usr/lib/chromium/chrome_100_percent.pak /usr/lib/chromium/chrome_200_percent.pak \
      /usr/lib/chromium/locales \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log \
 && /usr/lib/chromium/chromium-headless-shell --version
WORKDIR /app
COPY --from=deps /app/node_modules /app/node_modules
# dist/ laid out like the repository: server/main.js, server/cli.js, policies/, client/dist/, ...
COPY --from=build /src/dist /app
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
# Plain node on the compiled server (the CLI: node server/cli.js audit verify <file>, ...).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "server/main.js"]
