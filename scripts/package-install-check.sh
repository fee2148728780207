#!/usr/bin/env bash
# Installs the .deb into a clean Debian 12 root and runs it there the way the
# unit does: debootstrap a minimal bookworm root into ROOT (once: later runs
# reuse it), copy it, and in the copy `apt-get install ./pagedserve_*.deb` inside it (the maintainer
# scripts run; apt resolves Depends from the Debian mirror), start the unit's
# ExecStart as the service user with the unit's user and groups, send a
# request, stop it with SIGTERM, then purge the package and check the user
# and logs are gone. Then, where systemd-nspawn is installed, the systemd
# stage: systemd and the package go into the same root, which is booted in
# a container with its own network; package-check/in-systemd.sh starts the
# unit there, sends a request, reads the journal by priority, stops it, and
# checks that a missing model exits 3 and is not restarted. Needs root,
# debootstrap and the mirror apt uses; not part of the default `make test`.
#
#   scripts/package-install-check.sh build/pagedserve_0.1.0_amd64.deb [ROOT]
#
# Exits 77 (skipped) without root or debootstrap.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "package-install-check: needs root; skipped"; exit 77; }
command -v debootstrap >/dev/null || { echo "package-install-check: no debootstrap; skipped"; exit 77; }

deb=$(realpath "${1:?usage: $0 PACKAGE.deb [ROOT]}")
base=${2:-/var/tmp/pagedserve-debian-root}
port=${PORT:-18431}
mirror=${MIRROR:-http://deb.debian.org/debian}
step() { echo "package-install-check: $*"; }
fail() { echo "package-install-check: FAILED: $*" >&2; exit 1; }

if [ ! -x "$base/usr/bin/apt-get" ]; then
  step "debootstrap bookworm into $base"
  debootstrap --variant=minbase bookworm "$base" "$mirror" >"$base.debootstrap.log" 2>&1 ||
    fail "debootstrap (see $base.debootstrap.log)"
fi
root=$(mktemp -d /tmp/pagedserve-install-check.XXXXXX)
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root" "$root.serve.log" "$root.boot.log"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
for fs in proc sys dev dev/pts; do
  mountpoint -q "$root/$fs" || { mount --bind "/$fs" "$root/$fs"; mounted+=("$root/$fs"); }
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

getent() { in_root getent "$@"; }
[ -z "$(getent group render || true)" ] || step "note: this root has a render group"
cp "$deb" "$root/tmp/pagedserve.deb"
step "apt-get install ./pagedserve.deb"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends /tmp/pagedserve.deb >/dev/null
in_root dpkg-query -W -f='${Status}\n' libopenblas0-openmp | grep -q "install ok installed" ||
  fail "libopenblas0-openmp not installed"
! in_root dpkg-query -W -f='${Status}\n' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed" ||
  fail "the pthread OpenBLAS was installed"
getent passwd pagedserve >/dev/null || fail "postinst did not create the pagedserve user"
in_root id -nG pagedserve | grep -qw video || fail "pagedserve is not in the video group"

unit="$root/usr/lib/systemd/system/pagedserve.service"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
[ -n "$exec_start" ] && [ "$user" = pagedserve ] || fail "unexpected unit: $(cat "$unit")"
step "start as $user: $exec_start --port $port"
# shellcheck disable=SC2086  # ExecStart's words, as systemd splits them
chroot "$root" /usr/bin/setpriv --reuid="$user" --regid="$user" --init-groups \
  /usr/bin/env -i PATH=/usr/bin:/bin $exec_start --port "$port" >"$root.serve.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" 2>/dev/null | grep -q 200 && break
  kill -0 "$server" 2>/dev/null || fail "the server exited: $(cat "$root.serve.log")"
  sleep 0.2
done
reply=$(curl -s "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt":"Once upon a time","max_tokens":16,"temperature":0}')
echo "$reply" | grep -q '"completion_tokens":16' || fail "no completion: $reply"
step "completion: $reply"
kill -TERM "$server"
status=0
wait "$server" || status=$?
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM: $(cat "$root.serve.log")"
step "stopped with status 0"

mkdir -p "$root/var/log/pagedserve" && echo old >"$root/var/log/pagedserve/pagedserve.log"
in_root apt-get purge -y -qq pagedserve >/dev/null
! getent passwd pagedserve >/dev/null || fail "purge left the pagedserve user"
[ ! -e "$root/var/log/pagedserve" ] || fail "purge left /var/log/pagedserve"
step "purged: user and logs removed"

if ! command -v systemd-nspawn >/dev/null; then
  step "no systemd-nspawn: systemd stage skipped"
  echo "package-install-check: OK"
  exit 0
fi
step "systemd stage: install systemd and the package again"
in_root apt-get install -y -qq --no-install-recommends systemd systemd-sysv dbus curl >/dev/null
in_root apt-get install -y -qq --no-install-recommends /tmp/pagedserve.deb >/dev/null
install -m 755 "$(dirname "$0")/package-check/in-systemd.sh" "$root/usr/local/sbin/pagedserve-in-systemd"
cat >"$root/etc/systemd/system/pagedserve-in-systemd.service" <<'UNIT'
[Unit]
Description=pagedserve package check, then power off
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/pagedserve-in-systemd
[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../pagedserve-in-systemd.service "$root/etc/systemd/system/multi-user.target.wants/"
for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}"; done
mounted=()
step "boot the root with systemd-nspawn"
timeout 300 systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$root" -b \
  >"$root.boot.log" 2>&1 || true
results="$root/root/in-systemd.log"
[ -f "$results" ] || fail "the check did not run in the container: $(tail -20 "$root.boot.log")"
grep '^check ' "$results"
grep -q '^in-systemd: done' "$results" || fail "the check did not finish: $(cat "$results")"
! grep -q '^check .* FAILED' "$results" || fail "in the container: $(cat "$results")"
echo "package-install-check: OK"
