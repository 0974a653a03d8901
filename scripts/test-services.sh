#!/usr/bin/env bash
# Installs the system packages the test suite (and `make bench`) need when missing:
# chromium for the browser tests, Java for the Nu HTML checker, PostgreSQL's
# binaries, wrk for the benchmark, memcached for the shared rate-limit storage
# (tests/web/test_shared_limits.py starts its own on a free port), nginx for the
# shipped proxy settings (tests/deploy/test_nginx.py, bench/readers_first.py --nginx).
# The tests start their own throwaway PostgreSQL server (tests/helpers_postgresql.py)
# from Debian's binaries in /usr/lib/postgresql/<version>/bin; no system cluster
# needs to run.
set -euo pipefail

have_initdb() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
have_initdb || missing+=(postgresql)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Extra tools a benchmark asks for by name (`make bench-instructions`: valgrind).
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! have_initdb; then
  echo "PostgreSQL's initdb is still missing after installation." >&2
  exit 1
fi
# initdb refuses to run as root: the tests then run the server as 'postgres'.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "Running as root without a 'postgres' user: the tests will use 'nobody'." >&2
fi
