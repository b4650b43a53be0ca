#!/usr/bin/env bash
# Installs the system tools snap-gadget's tests compare against, when this user may:
#   snapd (snap pack --check-skeleton, snap sign: the oracle), python3-yaml (the oracle script),
#   qemu-user-static (ARM runs of the runtime bundle), Go with snapd's source (snapd's own
#   snapctl-typing and assertion checkers).
# Without root or apt-get it only says what is missing; the tests that need a tool say so too.
set -u
need=()
command -v snap >/dev/null 2>&1 || need+=(snapd)
python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/snapcore/snapd ] || need+=(golang-github-snapcore-snapd-dev golang-golang-x-crypto-dev golang-gopkg-tomb.v2-dev golang-gopkg-yaml.v2-dev)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || {
    echo "system-deps: apt-get install ${need[*]} failed" >&2
    exit 1
  }
else
  echo "system-deps: missing ${need[*]} (install them with apt-get as root for the oracle and ARM tests)" >&2
fi
