#!/usr/bin/env bash
# `npm run dev`: run the bot on this machine without Docker. Uses MONGODB_URL / REDIS_URL when
# they answer, else readies local services with scripts/services.sh (the script .ci/run and
# `npm test` use), builds, and runs `enrichbot start` in role all (web + worker) in the
# foreground. Ctrl-C stops the bot (it finishes in-flight jobs) and then whatever was started.
set -uo pipefail
cd "$(dirname "$0")/.."
TOOLS="${ENRICHBOT_TOOLS_DIR:-$HOME/.cache/enrichbot-tools}"

say() { echo "[dev] $*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" -lt 22 ]; then
  if [ "$(node_major "$TOOLS/node24/node_modules/.bin/node")" = 24 ]; then
    export PATH="$TOOLS/node24/node_modules/.bin:$PATH" # the Node 24 .ci/run installed
  else
    say "enrichbot needs Node 22 or later (24 recommended); this is $(node -v 2>/dev/null || echo 'no node'). Install Node 24, or run \`bash .ci/run\` once (it installs one into $TOOLS/node24)."
    exit 1
  fi
fi
[ -d node_modules ] || { say "packages are not installed: run \`npm ci --ignore-scripts\` first."; exit 1; }

say "building (npm run build)"
npm run --silent build || { say "the build failed (see above)"; exit 1; }

unset ENRICHBOT_SERVICES_STATE # only what this run starts is stopped at the end
SERVICES=$(bash scripts/services.sh start) || { say "could not ready MongoDB and Redis (see above)"; exit 1; }
eval "$SERVICES"
trap 'bash scripts/services.sh stop "$ENRICHBOT_SERVICES_STATE"' EXIT

export ENRICHBOT_ROLE=all
PORT=${PORT:-3000}
export PORT
redact() { sed -E 's#//[^@/]*@#//[redacted]@#'; }
started=$(cd "$ENRICHBOT_SERVICES_STATE" && ls ferretdb.pid redis.started 2>/dev/null | sed 's/ferretdb.pid/FerretDB/; s/redis.started/redis-server/' | paste -sd ' ' -)
cat >&2 <<EOF

[dev] enrichbot, role all (web + worker), from this checkout
[dev]   HTTP       http://127.0.0.1:$PORT  (GET /healthz, GET /readyz)
[dev]   admin      http://127.0.0.1:${ADMIN_PORT:-9464}/metrics  (loopback only)
[dev]   MongoDB    $(echo "$MONGODB_URL" | redact)
[dev]   Redis      $(echo "$REDIS_URL" | redact)
[dev]   started    ${started:-nothing (both were running already)}; stopped again on Ctrl-C
[dev] Enabled providers are listed in the "enrichbot started" log line below. Provider keys
[dev] come from the environment (see .env.example); without any, the free ones run.
[dev] Try it from another terminal in this directory:
[dev]   eval "\$(bash scripts/services.sh env $ENRICHBOT_SERVICES_STATE)"
[dev]   node bin/enrichbot.js enrich --no-worker jane@acme.com
[dev]   curl http://127.0.0.1:$PORT/readyz

EOF

# Not exec: this shell stays to stop the services once the bot has exited. Ctrl-C reaches the
# bot too (same process group); it finishes in-flight jobs and exits, then the trap runs.
trap ':' INT
node bin/enrichbot.js start
status=$?
say "enrichbot exited ($status)"
exit $status
