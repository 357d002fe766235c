#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (the MongoDB-wire server CI tests against) once and caches the
# binary outside the repo. `go install ...@v1.24.2` is refused by the module proxy's
# deprecation lookup here, and a module-mode build panics without build/version/version.txt,
# so: fetch the module through a throwaway module, copy its source, stamp the version, build.
set -euo pipefail
VERSION=v1.24.2
TOOLS_DIR=${ENRICHBOT_TOOLS_DIR:-$HOME/.cache/enrichbot-tools}
BIN="$TOOLS_DIR/bin/ferretdb"
# Not `... --version | grep -q`: grep -q exits at the first match, ferretdb then dies of SIGPIPE
# writing the rest, and pipefail turns that into "not built", rebuilding every so often.
if [ -x "$BIN" ] && [[ "$("$BIN" --version 2>/dev/null)" == *"version: $VERSION"* ]]; then
  echo "$BIN"; exit 0
fi
export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "Go is needed to build FerretDB: install Go (expected at /usr/local/go)." >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  go mod init ferretdb-fetch >/dev/null 2>&1
  go get -tool "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION" >&2
  src=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
  cp -r "$src" "$work/src"
  chmod -R u+w "$work/src"
  echo "$VERSION" > "$work/src/build/version/version.txt"
  cd "$work/src"
  mkdir -p "$TOOLS_DIR/bin"
  go build -o "$BIN.tmp" ./cmd/ferretdb >&2
  mv "$BIN.tmp" "$BIN"
)
echo "$BIN"
