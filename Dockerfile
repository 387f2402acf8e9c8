# Vitrine container image.
#   build:  docker build -t vitrine .        (podman: podman build --network host -t vitrine .)
#   run:    docker run --rm -p 8080:8080 --shm-size=1g -e VITRINE_JWT_SECRET=... vitrine
# See docs/deployment.md for the operator's notes (shared memory, sandbox and browser user,
# capabilities, read-only root).

# --- build stage: the web client and the server compiled to JavaScript (esbuild) -------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# All dependencies (esbuild and tsx are dev dependencies); no install scripts run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY server ./server
COPY client ./client
COPY policies ./policies
# dist/: the server bundles, the in-page scripts, the demo site, the policies, the client.
RUN node --import tsx client/build.ts && node --import tsx server/build.ts

# --- dependencies stage: only the packages the bundles load from node_modules -----------------
# The bundles carry every npm package but the few in dist/runtime-packages.json (tesseract.js,
# which loads its worker, WebAssembly core and language data by file path). The production tree
# is installed from the lockfile (integrity checked; no optional or peer packages, no install
# scripts), then pruned to those packages and their dependencies (deploy/container/prune-modules.mjs).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --omit=peer --ignore-scripts --no-audit --no-fund
COPY deploy/container/prune-modules.mjs /tmp/
COPY --from=build /src/dist/runtime-packages.json /tmp/
RUN node /tmp/prune-modules.mjs node_modules /tmp/runtime-packages.json \
 && find node_modules \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -type f -delete

# --- helper stage: the browser user switch (deploy/container/vitrine-browser-exec.c) ----------
# A tiny C program that can make exactly one identity, the browser user's (compiled in), so that
# the server (uid 10001) starts browsers as uid 10002 without ever being able to become root.
# The same stage strips Node's binary of its symbol table and debug sections (127 -> 109 MB): the
# dynamic symbols native add-ons link against stay, JavaScript stack traces are V8's own.
FROM debian:bookworm-slim AS helper
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/container/vitrine-browser-exec.c /src/
RUN gcc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now \
      -DBROWSER_UID=10002 -DBROWSER_GID=10002 -o /src/vitrine-browser-exec /src/vitrine-browser-exec.c
COPY --from=node:24-bookworm-slim /usr/local/bin/node /src/node
RUN strip /src/node && /src/node --version \
 && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcap2-bin \
 && rm -rf /var/lib/apt/lists/*

# --- runtime stage: Node 24 LTS + Debian's headless Chromium, no build tools ----------------
# Assembled on node:24-bookworm-slim, then flattened into the final image (below), so that what
# this stage removes from the base image's own layers (npm, translations, manual pages) is gone.
FROM node:24-bookworm-slim AS runtime
COPY --from=helper /src/node /usr/local/bin/node
# The browser user switch (deploy/container/vitrine-browser-exec.c): root:vitrine 0750, so only
# the server's group can run it; its file capabilities are set in the final stage.
COPY --from=helper /src/vitrine-browser-exec /usr/local/libexec/vitrine/vitrine-browser-exec
# One layer:
#  - Debian's headless Chromium, fonts, tini; no documentation, manual pages or translations;
#  - the server user (10001) and the browser user (10002, its own group, no login, no home);
#  - packages Chromium's dependencies pull in that nothing here loads (--force-depends; the ldd
#    check at the end fails the build if a library of the browser, its GPU fallback or Node is
#    missing): Mesa's GPU drivers and the LLVM they pull in (Chromium runs with --disable-gpu and
#    never loads them), GLX and the X utilities (chromium-common depends on x11-utils and
#    xdg-utils; a headless browser runs neither; no X display, so no keyboard maps or X locale
#    data either: keys reach pages through CDP), libxml2 and the ICU it links (about 36 MB;
#    Chromium carries its own ICU, icudtl.dat), OpenSSL (Node links its own, Chromium uses
#    BoringSSL; ca-certificates' certificate files stay);
#  - Vulkan's validation layer and mock driver (debugging only); the full browser's resources
#    (resources.pak, scale packs, locales): the headless shell carries its own (headless_lib_*.pak);
#  - npm and corepack (nothing installs at run time), and the base image's translations, manual
#    pages and documentation (copyright files stay);
#  - the package lists and apt's caches.
RUN printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' \
      'path-exclude=/usr/share/lintian/*' >/etc/dpkg/dpkg.cfg.d/90-vitrine-slim \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium-headless-shell fonts-liberation fonts-dejavu-core fonts-noto-color-emoji tini ca-certificates \
 && groupadd --system --gid 10001 vitrine \
 && useradd --system --uid 10001 --gid vitrine --home-dir /home/vitrine --create-home --shell /usr/sbin/nologin vitrine \
 && install -d -o vitrine -g vitrine -m 0700 /var/lib/vitrine \
 && groupadd --system --gid 10002 vitrine-browser \
 && useradd --system --uid 10002 --gid vitrine-browser --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vitrine-browser \
 && chmod 0700 /home/vitrine \
 && chown root:vitrine /usr/local/libexec/vitrine/vitrine-browser-exec \
 && chmod 0750 /usr/local/libexec/vitrine/vitrine-browser-exec \
 && dpkg --purge --force-depends libgl1-mesa-dri libllvm15 libz3-4 libedit2 libelf1 libsensors5 libsensors-config \
      libdrm-amdgpu1 libdrm-intel1 libdrm-nouveau2 libdrm-radeon1 libpciaccess0 libglapi-mesa libglx-mesa0 libglx0 libgl1 libglvnd0 \
      libxcb-glx0 libxcb-dri2-0 libxcb-dri3-0 libxcb-present0 libxcb-sync1 libxcb-xfixes0 libxcb-randr0 libxcb-shape0 libxcb-shm0 libxshmfence1 \
      x11-utils xdg-utils libxaw7 libxmu6 libxmuu1 libxt6 libxpm4 libxft2 libxkbfile1 libxtst6 libxv1 libxxf86dga1 libxxf86vm1 \
      libxinerama1 libfontenc1 libsm6 libice6 x11-common xkb-data libx11-data libxml2 libicu72 openssl libssl3 \
 && rm -rf /usr/lib/chromium/libVkLayer_khronos_validation.so* /usr/lib/chromium/libVkICD_mock_icd.so* \
      /usr/lib/chromium/resources.pak /usr/lib/chromium/chrome_100_percent.pak /usr/lib/chromium/chrome_200_percent.pak \
      /usr/lib/chromium/locales \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/include/node \
      /usr/share/locale/* /usr/share/man/* /usr/share/info/* /usr/share/lintian \
 && find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete \
 && find /usr/share/doc -mindepth 1 -type d -empty -delete \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log \
 && missing=$(for f in /usr/lib/chromium/chromium-headless-shell /usr/lib/chromium/chrome_crashpad_handler /usr/lib/chromium/*.so* /usr/local/bin/node; do \
      ldd "$f" 2>/dev/null | grep 'not found' | sed "s|^|$f: |"; done) \
 && { [ -z "$missing" ] || { echo "missing libraries: $missing" >&2; exit 1; }; } \
 && /usr/lib/chromium/chromium-headless-shell --version && node --version
WORKDIR /app
COPY --from=deps /app/node_modules /app/node_modules
# dist/ laid out like the repository: server/main.js, server/cli.js, policies/, client/dist/, ...
COPY --from=build /src/dist /app

# --- the image: the runtime stage's file system as one layer --------------------------------
FROM scratch
COPY --from=runtime / /
# The browser user switch gets cap_setuid,cap_setgid+ep and nothing else, here, where it stays
# (a copy between stages need not keep file capabilities). They need CAP_SETUID and CAP_SETGID in
# the container's bounding set and no no-new-privileges (docs/deployment.md); without them the
# server refuses to start. setcap comes from the helper stage and is not left in the image.
RUN --mount=type=bind,from=helper,source=/usr/sbin/setcap,target=/run/setcap \
    /run/setcap cap_setuid,cap_setgid+ep /usr/local/libexec/vitrine/vitrine-browser-exec
WORKDIR /app
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production \
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
