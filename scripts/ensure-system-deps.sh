#!/usr/bin/env bash
# Installs the system tools our tests use as oracles and browsers, which npm cannot provide:
# Debian's qemu-utils (qemu-img, qemu-io: the reference reader/writer) and chromium + xvfb (UI tests).
# As root it installs them with apt-get; otherwise it says exactly what to run.
set -euo pipefail
missing=()
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v qemu-io >/dev/null 2>&1 || { [[ " ${missing[*]-} " == *" qemu-utils "* ]] || missing+=(qemu-utils); }
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
# filefrag (e2fsprogs) tells where a host file has data and holes, as qemu-img map asks the file system.
command -v filefrag >/dev/null 2>&1 || [ -x /usr/sbin/filefrag ] || missing+=(e2fsprogs)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "ensure-system-deps: missing ${missing[*]}. Install them with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
exit 1
