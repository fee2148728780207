#!/bin/sh
# Runs inside a booted Debian 12 container (package-install-check.sh's
# systemd stage) with the package installed: starts the unit, sends a
# request, reads the journal by priority, stops it, then checks that a
# missing model fails once with status 3 and is not restarted. Prints one
# "check NAME ok|FAILED ..." line per check, then powers off.
exec >/root/in-systemd.log 2>&1
check() { name=$1; shift; if "$@"; then echo "check $name ok"; else echo "check $name FAILED"; fi; }
wait_for() { i=0; while [ $i -lt 300 ]; do "$@" && return 0; sleep 0.2; i=$((i + 1)); done; return 1; }
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/health)" = 200 ]; }

check unit-starts systemctl start pagedserve.service
check unit-active systemctl is-active --quiet pagedserve.service
check healthy wait_for healthy
reply=$(curl -s http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \
  -d '{"prompt":"Once upon a time","max_tokens":16,"temperature":0}')
echo "completion: $reply"
check completion sh -c "echo '$reply' | grep -q '\"completion_tokens\":16'"
check journal-info sh -c 'journalctl -u pagedserve -p info --no-pager | grep -q "model loaded"'
# journald took the "<6>" prefix as the priority: the stored message starts with ts=.
check journal-prefix-parsed sh -c 'journalctl -u pagedserve -p info -o cat --no-pager | grep -q "^ts=.*model loaded"'
check journal-warning-filters sh -c '! journalctl -u pagedserve -p warning --no-pager | grep -q "model loaded"'
check unit-stops systemctl stop pagedserve.service
check stopped-cleanly sh -c '[ "$(systemctl show -p ExecMainStatus --value pagedserve.service)" = 0 ]'
check user-groups sh -c 'id -nG pagedserve | grep -qw video'

# A missing model: status 3, logged at error priority, and no restart loop.
cp /etc/pagedserve/pagedserve.json /root/pagedserve.json.orig
sed -i 's|"model": "[^"]*"|"model": "/var/lib/pagedserve/models/missing"|' /etc/pagedserve/pagedserve.json
systemctl start pagedserve.service
sleep 8  # longer than RestartSec
check missing-model-status sh -c '[ "$(systemctl show -p ExecMainStatus --value pagedserve.service)" = 3 ]'
check missing-model-not-restarted sh -c '[ "$(systemctl show -p NRestarts --value pagedserve.service)" = 0 ]'
check missing-model-inactive sh -c '! systemctl is-active --quiet pagedserve.service'
check journal-error sh -c 'journalctl -u pagedserve -p err --no-pager | grep -q "the model failed to load"'
cp /root/pagedserve.json.orig /etc/pagedserve/pagedserve.json
echo "in-systemd: done"
systemctl poweroff
