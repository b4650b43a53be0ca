#!/usr/bin/env bash
# Debian's own Node.js (bookworm: Node 18) for arm64 and armhf, run on any Linux machine through
# qemu-user-static, without binfmt_misc: the packages are unpacked into a private sysroot and
# started as `qemu-<cpu>-static -L SYSROOT SYSROOT/usr/bin/node …`.
#
#   scripts/arm-node.sh prepare arm64|armhf           download + unpack once (cached)
#   scripts/arm-node.sh run arm64|armhf -- ARGS…      run that node with ARGS (prepares first if needed)
#   scripts/arm-node.sh status arm64|armhf            exit 0 ready, 10 can be prepared, 3 cannot (reason on stdout)
#   scripts/arm-node.sh clean arm64|armhf             forget the cached sysroot
#
# The sysroot lives in .cache/arm/<arch>/ of the project (ignored by git). Root is needed only the
# first time, to add the architecture to dpkg, fetch its package lists and install
# qemu-user-static; after that any user can prepare and run.
#
# The package set is the dependency closure of `nodejs` computed by apt itself, with the target
# architecture taken as apt's native one: that yields exactly the target's shared libraries plus the
# architecture-independent node-acorn, node-cjs-module-lexer, node-undici (and what they need),
# without the host's packages.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT="$ROOT/.cache/arm"

die() {
  echo "arm-node: $*" >&2
  exit 1
}

usage() {
  sed -n '6,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

qemu_for() {
  case "$1" in
    arm64) echo qemu-aarch64-static ;;
    armhf) echo qemu-arm-static ;;
    *) die "unknown architecture '$1' (use arm64 or armhf)" ;;
  esac
}

expected_process_arch() {
  case "$1" in
    arm64) echo arm64 ;;
    armhf) echo arm ;;
  esac
}

triplet_for() {
  case "$1" in
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
  esac
}

# Starts SYSROOT/usr/bin/node under qemu. For armhf the library directories are also given as
# host paths: 32-bit glibc probes directories with statx, which qemu does not map into the -L
# prefix, so the loader would otherwise decide /lib/arm-linux-gnueabihf does not exist.
qemu_node() {
  local arch=$1 sysroot=$2
  shift 2
  local qemu triplet
  qemu=$(qemu_for "$arch")
  triplet=$(triplet_for "$arch")
  local -a env=()
  [ "$arch" = armhf ] && env=(-E "LD_LIBRARY_PATH=$sysroot/lib/$triplet:$sysroot/usr/lib/$triplet")
  exec "$qemu" -L "$sysroot" "${env[@]}" "$sysroot/usr/bin/node" "$@"
}

is_root() { [ "$(id -u)" = 0 ]; }

# apt with the target as its only (native) architecture: package names come back unqualified and
# already resolved for that architecture.
apt_target() {
  local tool=$1 arch=$2
  shift 2
  "$tool" -q -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" "$@"
}

has_candidate() {
  local arch=$1 info
  # Captured first: `grep -q` closing the pipe early would fail the pipeline under pipefail.
  info=$(apt_target apt-cache "$arch" show --no-all-versions nodejs 2>/dev/null) || return 1
  grep -q "^Architecture: $arch\$" <<<"$info"
}

sysroot_ready() {
  local dir="$CACHE_ROOT/$1"
  [ -f "$dir/ready" ] && [ -x "$dir/sysroot/usr/bin/node" ]
}

ensure_qemu() {
  local qemu
  qemu=$(qemu_for "$1")
  command -v "$qemu" >/dev/null 2>&1 && return 0
  is_root && command -v apt-get >/dev/null 2>&1 ||
    die "$qemu is missing; install it once as root: apt-get install -y qemu-user-static"
  echo "arm-node: installing qemu-user-static" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null ||
    die "apt-get install qemu-user-static failed"
  command -v "$qemu" >/dev/null 2>&1 || die "$qemu still missing after installing qemu-user-static"
}

ensure_package_lists() {
  local arch=$1
  has_candidate "$arch" && return 0
  is_root || die "no $arch package lists; run once as root: scripts/arm-node.sh prepare $arch (it runs dpkg --add-architecture $arch and apt-get update)"
  local foreign
  foreign=$(dpkg --print-foreign-architectures)
  if ! grep -qx "$arch" <<<"$foreign" && [ "$(dpkg --print-architecture)" != "$arch" ]; then
    echo "arm-node: dpkg --add-architecture $arch" >&2
    dpkg --add-architecture "$arch"
  fi
  echo "arm-node: apt-get update" >&2
  # A mirror in the middle of a sync can fail one index (e.g. the security suite) while the main
  # suite, which holds nodejs, is fine: judge by the result, not by apt-get's exit status.
  local attempt
  for attempt in 1 2 3; do
    apt-get update -qq -o Acquire::Retries=3 >/dev/null 2>&1 || echo "arm-node: apt-get update reported errors; checking whether nodejs:$arch is available anyway" >&2
    has_candidate "$arch" && return 0
    [ "$attempt" = 3 ] || sleep $((attempt * 10))
  done
  die "nodejs is not available for $arch after apt-get update (check /etc/apt/sources.list)"
}

dependency_closure() {
  apt_target apt-cache "$1" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances nodejs |
    grep -v '^[[:space:]<]' | sort -u
}

prepare() {
  local arch=$1
  local dir="$CACHE_ROOT/$arch"
  ensure_qemu "$arch"
  sysroot_ready "$arch" && return 0
  mkdir -p "$dir"
  # One preparer at a time per architecture (parallel test files may all ask for it).
  exec 9>"$dir/.lock"
  flock 9
  if sysroot_ready "$arch"; then
    exec 9>&-
    return 0
  fi
  ensure_package_lists "$arch"

  local packages
  packages=$(dependency_closure "$arch")
  for required in nodejs libnode108 libc6 node-acorn node-cjs-module-lexer node-undici; do
    grep -qx "$required" <<<"$packages" || die "dependency closure for $arch lacks $required: $(echo $packages)"
  done

  local work="$dir/work.$$"
  rm -rf "$dir"/work.* && mkdir -p "$work/debs" "$work/sysroot"
  trap 'rm -rf "$work"' EXIT
  # apt's sandbox user must be able to write the download directory.
  chmod 0777 "$work/debs" 2>/dev/null || true
  echo "arm-node: downloading $(wc -w <<<"$packages") packages for $arch" >&2
  # A mirror mid-sync can fail one file: retry before giving up.
  local attempt
  for attempt in 1 2 3; do
    # shellcheck disable=SC2086 # one word per package
    (cd "$work/debs" && apt_target apt-get "$arch" download -o Acquire::Retries=3 $packages >/dev/null 2>"$work/download.log") && break
    if [ "$attempt" = 3 ]; then
      cat "$work/download.log" >&2
      die "apt-get download failed for $arch"
    fi
    echo "arm-node: apt-get download failed (attempt $attempt of 3); retrying" >&2
    sleep $((attempt * 10))
  done
  local deb
  for deb in "$work/debs"/*.deb; do
    dpkg-deb -x "$deb" "$work/sysroot"
  done
  for deb in "$work/debs"/*.deb; do
    dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}\n' "$deb"
  done >"$work/packages.txt"

  # Prove it runs before declaring it ready.
  local got want
  want=$(expected_process_arch "$arch")
  got=$(env -u NODE_OPTIONS "${BASH_SOURCE[0]}" exec-node "$arch" "$work/sysroot" -e 'process.stdout.write(process.arch + " " + process.version)') ||
    die "Node for $arch does not start under $(qemu_for "$arch")"
  [ "${got%% *}" = "$want" ] || die "Node for $arch reports process.arch '${got%% *}', expected '$want'"

  rm -rf "$dir/sysroot"
  mv "$work/sysroot" "$dir/sysroot"
  mv "$work/packages.txt" "$dir/packages.txt"
  rm -rf "$work"
  trap - EXIT
  echo "$got" >"$dir/ready"
  exec 9>&-
  echo "arm-node: $arch ready: node ${got#* } ($(wc -l <"$dir/packages.txt") packages)" >&2
}

status() {
  local arch=$1 qemu
  qemu=$(qemu_for "$arch")
  local can_install_qemu=no
  is_root && command -v apt-get >/dev/null 2>&1 && can_install_qemu=yes
  if ! command -v "$qemu" >/dev/null 2>&1 && [ $can_install_qemu = no ]; then
    echo "$qemu is missing (apt-get install -y qemu-user-static as root)"
    return 3
  fi
  if command -v "$qemu" >/dev/null 2>&1 && sysroot_ready "$arch"; then
    echo "ready: $(cat "$CACHE_ROOT/$arch/ready")"
    return 0
  fi
  if has_candidate "$arch" || is_root; then
    echo "can be prepared: scripts/arm-node.sh prepare $arch"
    return 10
  fi
  echo "no $arch package lists and not root (run scripts/arm-node.sh prepare $arch as root once)"
  return 3
}

run() {
  local arch=$1
  shift
  [ "${1:-}" = -- ] && shift
  sysroot_ready "$arch" && command -v "$(qemu_for "$arch")" >/dev/null 2>&1 || prepare "$arch"
  qemu_node "$arch" "$CACHE_ROOT/$arch/sysroot" "$@"
}

[ $# -ge 2 ] || usage
command=$1
arch=$2
shift 2
qemu_for "$arch" >/dev/null
case "$command" in
  prepare) prepare "$arch" ;;
  run) run "$arch" "$@" ;;
  status) status "$arch" ;;
  clean) rm -rf "${CACHE_ROOT:?}/$arch" ;;
  exec-node) qemu_node "$arch" "$@" ;; # internal: run the node of a given sysroot
  *) usage ;;
esac
