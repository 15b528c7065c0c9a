#!/usr/bin/env bash
# Prepares this checkout to build, test and run Breakwater on a Debian-like host.
# Idempotent: installs only what is missing, so a second run takes a second or two.
#   1. Debian packages (toolchain, libbpf, test tools, PostgreSQL, Prometheus)
#   2. npm packages when node_modules is missing or stale: 'npm ci', exactly
#      what package-lock.json holds (it lists every platform's optional
#      packages), never rewriting it
#   3. the native addon and its BPF object (node-gyp), and the agent's bundle
#   4. a bpffs at /sys/fs/bpf for the pins
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Build toolchain and libraries, then the tools the tests and the lab drive.
PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config bpftool linux-libc-dev
  iproute2 iputils-ping xdp-tools netsniff-ng hping3 tcpreplay tshark
  nghttp2-client nftables
  postgresql prometheus
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
else
  die "this is not a Debian-like system (no dpkg-query). Install by hand: ${PACKAGES[*]}, then run 'npm ci'."
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}. Run this as root (sudo npm test) or install them: apt-get install ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's postgresql package starts a cluster on 5432; the tests start their own on a private port.

stamp=node_modules/.breakwater-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
elif [ ! -f build/Release/breakwater.node ] || [ -n "$(find bpf native binding.gyp -newer build/Release/breakwater.node -print -quit)" ]; then
  say "building the native addon"
  log=$(mktemp)
  npm run build --silent >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; die "native build failed"; }
  rm -f "$log"
fi

# The agent's bundle (dist/agent.mjs): rebuilt when any TypeScript it may include changed.
if [ ! -f dist/agent.mjs ] || [ -n "$(find agent native contract lib -name '*.ts' -newer dist/agent.mjs -print -quit)" ]; then
  say "bundling the agent"
  npm run build:agent --silent
fi

if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
  say "mounting bpffs at /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf
fi
