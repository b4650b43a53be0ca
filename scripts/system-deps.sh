#!/usr/bin/env bash
# Installs the system tools snap-gadget's tests compare against, when this user may:
#   snapd (snap pack --check-skeleton, snap sign: the oracle), python3-yaml (the oracle script),
#   qemu-user-static (ARM runs of the runtime bundle), Go with snapd's source (snapd's own
#   snapctl-typing and assertion checkers, and its devicestate tests registering against serve),
#   PostgreSQL (serve's tests start a throwaway server with its initdb and pg_ctl), OpenSSH's
#   server and systemd-socket-activate (doctor's live tests start snapd itself on its sockets and
#   an sshd on a loopback port, and read snapd through the real snap command over ssh).
#   gcc and make (a core22 gadget's quickjs part, built in a test), and QuickJS itself: Debian
#   trixie's packages for amd64, arm64 and armhf and the QuickJS release source, fetched into
#   .cache/quickjs/ by scripts/quickjs.sh (the tests would fetch them too, one at a time).
#   snapd's newest Go source that Debian packages (sid: 2.77, hardware identity) with Go 1.26,
#   unpacked without installing into .cache/snapd-newest-go/ by the shared tool beside the project
#   (../shared/tools/snapd-newest-go.sh), for the tests that judge hardware identities with it.
# Without root or apt-get it only says what is missing; the tests that need a tool say so too.
set -u
need=()
command -v snap >/dev/null 2>&1 || need+=(snapd)
python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v go >/dev/null 2>&1 || need+=(golang-go)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v systemd-socket-activate >/dev/null 2>&1 || need+=(systemd)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || need+=(make)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
[ -d /usr/share/gocode/src/github.com/snapcore/snapd ] || need+=(golang-github-snapcore-snapd-dev golang-golang-x-crypto-dev golang-gopkg-tomb.v2-dev golang-gopkg-yaml.v2-dev)
# snapd's overlord/devicestate tests, built from that source to register against `serve`, import these too.
for source_and_package in \
  github.com/boltdb/bolt:golang-github-boltdb-bolt-dev \
  github.com/coreos/go-systemd:golang-github-coreos-go-systemd-dev \
  github.com/godbus/dbus:golang-dbus-dev \
  github.com/juju/ratelimit:golang-github-juju-ratelimit-dev \
  github.com/mvo5/goconfigparser:golang-github-mvo5-goconfigparser-dev \
  golang.org/x/xerrors:golang-golang-x-xerrors-dev \
  gopkg.in/macaroon.v1:golang-gopkg-macaroon.v1-dev \
  gopkg.in/mgo.v2:golang-gopkg-mgo.v2-dev \
  gopkg.in/retry.v1:golang-gopkg-retry.v1-dev \
  gopkg.in/check.v1:golang-gopkg-check.v1-dev \
  gopkg.in/tylerb/graceful.v1:golang-gopkg-tylerb-graceful.v1-dev \
  github.com/gorilla/mux:golang-github-gorilla-mux-dev \
  github.com/jessevdk/go-flags:golang-github-jessevdk-go-flags-dev \
  github.com/kr/pretty:golang-github-kr-pretty-dev \
  gopkg.in/yaml.v3:golang-gopkg-yaml.v3-dev; do
  [ -d "/usr/share/gocode/src/${source_and_package%%:*}" ] || need+=("${source_and_package#*:}")
done

# The newest snapd Go source Debian has (sid's, with its Go toolchain), unpacked under
# .cache/snapd-newest-go, nothing installed: the layout and secure-onboarding proofs build against it.
prepare_newest_snapd() {
  local tool
  tool="$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/snapd-newest-go.sh"
  [ -f "$tool" ] || return 0
  bash "$tool" --dest "$(cd "$(dirname "$0")/.." && pwd)/.cache/snapd-newest-go" >/dev/null 2>&1 || echo "system-deps: the newest snapd Go source could not be unpacked" >&2
}

# QuickJS for the three architectures and its source (cached: quick once done). Its own retries.
prepare_quickjs() {
  local quickjs arch
  quickjs="$(cd "$(dirname "$0")" && pwd)/quickjs.sh"
  for arch in amd64 arm64 armhf; do
    bash "$quickjs" prepare "$arch" >/dev/null || echo "system-deps: QuickJS for $arch could not be prepared" >&2
  done
  bash "$quickjs" source >/dev/null || echo "system-deps: the QuickJS source could not be fetched" >&2
  prepare_newest_snapd
}

# snapd's newest Go source and its toolchain (about 400 MB, unpacked once; a later run only checks).
prepare_snapd_newest() {
  local project tool
  project="$(cd "$(dirname "$0")/.." && pwd)"
  tool="$project/../shared/tools/snapd-newest-go.sh"
  [ -x "$tool" ] || return 0
  "$tool" --dest "$project/.cache/snapd-newest-go" >/dev/null || echo "system-deps: snapd's newest Go source could not be unpacked" >&2
}

prepare() {
  prepare_quickjs
  prepare_snapd_newest
}

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  [ ${#need[@]} -eq 0 ] || echo "system-deps: missing ${need[*]} (install them with apt-get as root for the oracle and ARM tests)" >&2
  exit 0
fi
[ ${#need[@]} -eq 0 ] && { prepare; exit 0; }

echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# A Debian mirror in the middle of a sync fails single indexes ("File has unexpected size"), and
# apt-get update then exits 100 although the lists we need are fine. Retry, then judge by whether
# the install works, not by update's exit status.
for attempt in 1 2 3; do
  apt-get update -qq -o Acquire::Retries=3 >/dev/null 2>&1 && break
  echo "system-deps: apt-get update reported errors (attempt $attempt of 3)" >&2
  [ "$attempt" = 3 ] || sleep $((attempt * 10))
done
for attempt in 1 2 3; do
  apt-get install -y -qq --no-install-recommends -o Acquire::Retries=3 "${need[@]}" >/dev/null && { prepare; exit 0; }
  echo "system-deps: apt-get install ${need[*]} failed (attempt $attempt of 3)" >&2
  [ "$attempt" = 3 ] || { sleep $((attempt * 10)); apt-get update -qq -o Acquire::Retries=3 >/dev/null 2>&1; }
done
exit 1
