#!/bin/sh
# Compiles an XDP program and generates its libbpf skeleton (called by binding.gyp).
#   build-bpf.sh SRC OBJ SKEL
set -eu
src=$1 obj=$2 skel=$3
for tool in clang bpftool; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "breakwater: '$tool' is missing; run 'npm run setup' (as root) or apt-get install clang bpftool libbpf-dev" >&2
    exit 1
  }
done
mkdir -p "$(dirname "$obj")"
arch_inc=/usr/include/$(uname -m | sed 's/x86_64/x86_64-linux-gnu/;s/aarch64/aarch64-linux-gnu/')
clang -g -O2 -target bpf -Wall -Werror -I"$arch_inc" -Ibpf ${BW_BPF_CFLAGS:-} -c "$src" -o "$obj"
bpftool gen skeleton "$obj" name breakwater_bpf > "$skel"
