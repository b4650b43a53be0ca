#!/usr/bin/env bash
# Debian trixie's QuickJS (`qjs`) for amd64, arm64 and armhf, run on a Debian 12 machine without
# installing it: the quickjs package and the same suite's libc6 (QuickJS from trixie needs glibc
# 2.38, Debian 12 has 2.36) are fetched with apt-get download through a private sources list and
# private apt state, and unpacked with dpkg -x. amd64 runs through trixie's own dynamic loader;
# arm64 and armhf through qemu-user-static (no binfmt_misc).
#
#   scripts/quickjs.sh prepare amd64|arm64|armhf        download + unpack once (cached)
#   scripts/quickjs.sh run ARCH -- ARGS…                run that qjs with ARGS (prepares first if needed)
#   scripts/quickjs.sh status ARCH                      exit 0 ready, 10 can be prepared, 3 cannot
#   scripts/quickjs.sh version ARCH                     the unpacked quickjs package version
#   scripts/quickjs.sh source                           the QuickJS release source (path of the tarball)
#
# `source` fetches trixie's source package with apt-get source --download-only: its
# quickjs_2025.04.26.orig.tar.xz is QuickJS 2025-04-26, the release a core22 gadget builds, repacked
# by Debian (top directory quickjs-2025.04.26/), so the tests build it with the gadget part's commands.
#
# The cache is .cache/quickjs/<arch>/ of the project (ignored by git): root/ holds quickjs,
# sysroot/ trixie's libc6, debs/ the downloaded packages. Downloads are retried: a Debian mirror in
# the middle of a sync fails single indexes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT="$ROOT/.cache/quickjs"
SUITE=trixie

die() {
  echo "quickjs: $*" >&2
  exit 1
}

usage() {
  sed -n '8,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

triplet_for() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    *) die "unknown architecture '$1' (use amd64, arm64 or armhf)" ;;
  esac
}

qemu_for() {
  case "$1" in
    arm64) echo qemu-aarch64-static ;;
    armhf) echo qemu-arm-static ;;
  esac
}

ready() {
  local dir="$CACHE_ROOT/$1"
  [ -f "$dir/ready" ] && [ -x "$dir/root/usr/bin/qjs" ]
}

# The Debian mirror this machine's apt already uses (deb822 or one-line format).
debian_mirror() {
  local mirror
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  case "$mirror" in *-security*) mirror=${mirror%-security} ;; esac
  echo "${mirror:-http://deb.debian.org/debian}"
}

prepare() {
  local arch=$1 dir="$CACHE_ROOT/$1"
  triplet_for "$arch" >/dev/null
  if [ "$arch" != amd64 ] && ! command -v "$(qemu_for "$arch")" >/dev/null 2>&1; then
    die "$(qemu_for "$arch") is missing; install qemu-user-static (scripts/system-deps.sh does)"
  fi
  ready "$arch" && return 0
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || die "needs apt-get and dpkg"
  mkdir -p "$dir"
  # One preparer at a time per architecture (parallel test files may all ask for it).
  exec 9>"$dir/.lock"
  flock 9
  ready "$arch" && return 0

  local state="$dir/apt" list
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dir/debs"
  list="$state/sources.list"
  echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) $SUITE main" >"$list"
  local -a apto=(-o "Dir::Etc::sourcelist=$list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::lists=$state/lists" -o "Dir::Cache=$state/cache" -o "Dir::State::status=/dev/null"
    -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o Acquire::Retries=3)
  [ "$(id -u)" = 0 ] && apto+=(-o Debug::NoDropPrivs=true -o APT::Sandbox::User=root)

  local attempt pkg version deb
  for attempt in 1 2 3; do
    apt-get "${apto[@]}" -qq update >/dev/null 2>&1 || echo "quickjs: apt-get update ($SUITE, $arch) reported errors (attempt $attempt of 3)" >&2
    apt-cache "${apto[@]}" show "quickjs:$arch" >/dev/null 2>&1 && break
    [ "$attempt" = 3 ] && die "quickjs is not available from $SUITE for $arch"
    sleep $((attempt * 10))
  done

  rm -rf "$dir/root" "$dir/sysroot"
  for pkg in quickjs libc6; do
    version=$(apt-cache "${apto[@]}" show "$pkg:$arch" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$version" ] || die "$pkg is not in $SUITE for $arch"
    deb="$dir/debs/${pkg}_${version//:/%3a}_$arch.deb"
    if [ ! -f "$deb" ]; then
      for attempt in 1 2 3; do
        (cd "$dir/debs" && apt-get "${apto[@]}" -qq download "$pkg:$arch=$version" >/dev/null 2>&1) && break
        [ "$attempt" = 3 ] && die "cannot download $pkg $version ($SUITE, $arch)"
        sleep $((attempt * 10))
      done
    fi
    if [ "$pkg" = libc6 ]; then
      mkdir -p "$dir/sysroot"
      dpkg -x "$deb" "$dir/sysroot"
      # merged /usr: the loader's /lib and /lib64 paths come from base-files, not libc6
      for d in lib lib64; do [ -e "$dir/sysroot/$d" ] || [ ! -d "$dir/sysroot/usr/$d" ] || ln -s "usr/$d" "$dir/sysroot/$d"; done
    else
      mkdir -p "$dir/root"
      dpkg -x "$deb" "$dir/root"
      echo "$version" >"$dir/version"
    fi
  done
  [ -x "$dir/root/usr/bin/qjs" ] || die "the quickjs package for $arch has no usr/bin/qjs"
  touch "$dir/ready"
  echo "quickjs: $(cat "$dir/version") ($SUITE, $arch) in $dir" >&2
}

run_qjs() {
  local arch=$1 dir="$CACHE_ROOT/$1" triplet
  shift
  ready "$arch" || prepare "$arch"
  triplet=$(triplet_for "$arch")
  local lib="$dir/sysroot/usr/lib/$triplet"
  case "$arch" in
    amd64) exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$dir/root/usr/bin/qjs" "$@" ;;
    # 32-bit glibc probes library directories with statx, which qemu does not map into the -L
    # prefix: give them as host paths too.
    armhf) exec qemu-arm-static -L "$dir/sysroot" -E "LD_LIBRARY_PATH=$lib" "$dir/root/usr/bin/qjs" "$@" ;;
    arm64) exec qemu-aarch64-static -L "$dir/sysroot" "$dir/root/usr/bin/qjs" "$@" ;;
  esac
}

SOURCE_TARBALL=quickjs_2025.04.26.orig.tar.xz
SOURCE_SHA256=ec81da5b3249ed648dbc7df4a1654988910e66a118d9b71cb63534216efcfbbe

source_tarball() {
  local dir="$CACHE_ROOT/source"
  if [ ! -f "$dir/$SOURCE_TARBALL" ]; then
    command -v apt-get >/dev/null 2>&1 || die "needs apt-get"
    mkdir -p "$dir"
    exec 9>"$dir/.lock"
    flock 9
  fi
  if [ ! -f "$dir/$SOURCE_TARBALL" ]; then
    local state="$dir/apt" attempt
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dir/download"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) $SUITE main" >"$state/sources.list"
    local -a apto=(-o "Dir::Etc::sourcelist=$state/sources.list" -o Dir::Etc::sourceparts=/dev/null
      -o "Dir::State::lists=$state/lists" -o "Dir::Cache=$state/cache" -o "Dir::State::status=/dev/null" -o Acquire::Retries=3)
    [ "$(id -u)" = 0 ] && apto+=(-o Debug::NoDropPrivs=true -o APT::Sandbox::User=root)
    for attempt in 1 2 3; do
      apt-get "${apto[@]}" -qq update >/dev/null 2>&1 || echo "quickjs: apt-get update ($SUITE sources) reported errors (attempt $attempt of 3)" >&2
      (cd "$dir/download" && apt-get "${apto[@]}" -qq --download-only source "quickjs=2025.04.26-1" >/dev/null 2>&1) && break
      [ "$attempt" = 3 ] && die "cannot download the quickjs source package from $SUITE"
      sleep $((attempt * 10))
    done
    echo "$SOURCE_SHA256  $dir/download/$SOURCE_TARBALL" | sha256sum --check --quiet --strict - || die "$SOURCE_TARBALL does not have the expected sha256"
    mv "$dir/download/$SOURCE_TARBALL" "$dir/$SOURCE_TARBALL"
    rm -rf "$dir/download"
  fi
  echo "$dir/$SOURCE_TARBALL"
}

status() {
  local arch=$1
  triplet_for "$arch" >/dev/null
  if ready "$arch"; then
    echo "ready: QuickJS $(cat "$CACHE_ROOT/$arch/version") ($SUITE, $arch)"
    exit 0
  fi
  if [ "$arch" != amd64 ] && ! command -v "$(qemu_for "$arch")" >/dev/null 2>&1; then
    echo "$(qemu_for "$arch") is missing (apt-get install qemu-user-static)"
    exit 3
  fi
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || { echo "needs apt-get and dpkg"; exit 3; }
  echo "not prepared yet: scripts/quickjs.sh prepare $arch downloads quickjs and libc6 from $SUITE"
  exit 10
}

if [ "${1:-}" = source ]; then
  source_tarball
  exit 0
fi
[ $# -ge 2 ] || usage
command=$1 arch=$2
shift 2
case "$command" in
  prepare) prepare "$arch" ;;
  run)
    [ "${1:-}" = -- ] && shift
    run_qjs "$arch" "$@"
    ;;
  status) status "$arch" ;;
  version) ready "$arch" || prepare "$arch"; cat "$CACHE_ROOT/$arch/version" ;;
  *) usage ;;
esac
