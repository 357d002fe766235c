# enrichbot: one image, run as `start` in the role from ENRICHBOT_ROLE (web, worker or all), or as
# any other CLI command (`docker run --rm <image> enrich jane@acme.com --json`).

# ---- build: compile the TypeScript, then drop the dev dependencies ----------------------------
FROM node:24-slim AS build
WORKDIR /app

COPY package.json package-lock.json ./
# --ignore-scripts: free-email-domains' postinstall downloads a fresh domain list from the
# internet; the list the package ships is used as is, so the build needs no network but npm's.
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- run: production dependencies, compiled code, default config ------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app

# The digest's spend chart is rendered to PNG by resvg with system fonts; slim images have none.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

# package.json is needed at run time: it makes the code ES modules and marks the package root
# where config/ is found.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config

# Files stay owned by root (read-only for the app); the process runs unprivileged.
USER node

EXPOSE 3000

# The worker role serves no HTTP, so only the web and all roles are probed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "if (process.env.ENRICHBOT_ROLE === 'worker') process.exit(0); fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/enrichbot.js"]
CMD ["start"]
