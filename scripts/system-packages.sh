#!/usr/bin/env bash
# The Debian packages the test suite and the benchmarks need, installed when missing: the one
# list, used by `make system-deps` (which `make test` and `make test-integration` run first) and
# by .ci/run.
#   redis-server  fixtures start a real redis-server on a free port (tests/servers.py): fail
#   chromium      the browser tests (web chat, security headers/CSP) fail without it; kaleido's
#                 PNG chart tests skip
#   nginx         `nginx -t` and a proxy run of docker/nginx.conf (tests/unit/test_deployment.py):
#                 skip without it
#   wrk           HTTP load for `make bench` (bench_load, bench_technical_api)
#
# All present: nothing downloaded, nothing printed, exit 0. Some missing, as root with apt-get:
# `apt-get update` once, install only the missing ones, then stop the services those packages
# started (the tests start their own servers on free ports). Some missing otherwise (not root, or
# not Debian): exit 1 at once, printing the command to run. SYSTEM_PACKAGES=skip: only warn
# (the tests that need a missing program fail or skip).
#
# Seams for tests/unit/test_system_packages.py (defaults: the real commands): SYSDEPS_ID,
# SYSDEPS_DPKG_QUERY, SYSDEPS_APT_GET, SYSDEPS_SERVICE name the commands run, SYSDEPS_PATH is
# where the programs are looked for when dpkg does not know the package.
set -euo pipefail

PACKAGES=(redis-server chromium nginx wrk) # each installs a program of the same name
SERVICES=(redis-server nginx)              # packages whose installation starts a service

ID_CMD=${SYSDEPS_ID:-id}
DPKG_QUERY=${SYSDEPS_DPKG_QUERY:-dpkg-query}
APT_GET=${SYSDEPS_APT_GET:-apt-get}
SERVICE=${SYSDEPS_SERVICE:-service}
SEARCH_PATH=${SYSDEPS_PATH:-$PATH:/usr/sbin:/sbin}

installed() {
  local status
  if command -v "$DPKG_QUERY" >/dev/null 2>&1; then
    # shellcheck disable=SC2016  # ${Status} is dpkg-query's field, not a shell variable
    status=$("$DPKG_QUERY" -W -f='${Status}' "$1" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] && return 0
  fi
  # installed some other way (another package manager, a local build)
  (PATH=$SEARCH_PATH && hash -r && command -v "$1") >/dev/null 2>&1
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

command="sudo apt-get update -qq && sudo apt-get install -y --no-install-recommends ${missing[*]}"
if [[ ${SYSTEM_PACKAGES:-} == skip ]]; then
  echo "system packages missing: ${missing[*]} (SYSTEM_PACKAGES=skip: going on; tests that need them fail or skip)" >&2
  exit 0
fi
if ! command -v "$APT_GET" >/dev/null 2>&1; then
  echo "system packages missing: ${missing[*]}; this is not a Debian machine (no apt-get):" >&2
  echo "install those programs with its package manager. On Debian the command is:" >&2
  echo "  $command" >&2
  exit 1
fi
if [[ $("$ID_CMD" -u) != 0 ]]; then
  echo "system packages missing: ${missing[*]}; installing them needs root. Run:" >&2
  echo "  $command" >&2
  echo "then run make again (or: sudo bash scripts/system-packages.sh)" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"$APT_GET" update -qq
"$APT_GET" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# no servers left running by the packages just installed: tests start their own on free ports
if command -v "$SERVICE" >/dev/null 2>&1; then
  for service in "${SERVICES[@]}"; do
    if [[ " ${missing[*]} " == *" $service "* ]]; then
      "$SERVICE" "$service" stop >/dev/null 2>&1 || true
    fi
  done
fi
