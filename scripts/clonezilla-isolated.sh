#!/bin/bash
# clonezilla-isolated.sh - run one of the REAL Clonezilla programs (Debian package clonezilla)
# on a machine that is not Clonezilla live, without letting it touch the host (contract §7).
#
#   ip netns exec NS unshare -m -p -f --kill-child --mount-proc --propagation private \
#       scripts/clonezilla-isolated.sh DIR ROLE COMMAND [ARG]...
#
# It becomes PID 1 of a private pid + mount namespace: /run is a fresh tmpfs, and /tmp,
# /var/log, /var/lib/clonezilla and /var/www/html are bind mounts of DIR/ROLE-{tmp,log,lib,www}
# (the real programs unpack, log, lock and publish there). reboot, poweroff, halt, shutdown and
# ocs-park-disks are logging stubs first in PATH; os-prober is off (it keeps loop devices busy).
# The real feeder kills processes by name: in its own pid namespace it sees only its own.
# Ending the unshare process (SIGKILL) ends everything started inside.
# ISOLATED_BINDS="SRC:DST ..." adds bind mounts first (e.g. an image root onto /home/partimag),
# so SRC may lie under /tmp.
set -u
dir="$1"; role="$2"; shift 2
case "$role" in ""|*[!A-Za-z0-9_-]*) echo "clonezilla-isolated: ROLE must be [A-Za-z0-9_-]+" >&2; exit 2 ;; esac
[ "$$" = 1 ] || { echo "clonezilla-isolated: must be PID 1 of its own pid namespace (run it under unshare -p -f)" >&2; exit 2; }
mkdir -p "$dir/shim"
for stub in reboot poweroff halt shutdown ocs-park-disks; do
    printf '#!/bin/sh\necho "[stub] not running: %s $*" >&2\nexit 0\n' "$stub" > "$dir/shim/$stub.new"
    chmod +x "$dir/shim/$stub.new"
    mv -f "$dir/shim/$stub.new" "$dir/shim/$stub"
done
for pair in ${ISOLATED_BINDS:-}; do
    mkdir -p "${pair#*:}" && mount --bind "${pair%%:*}" "${pair#*:}" || exit 1
done
mount -t tmpfs isolated-run /run && mkdir -p /run/lock || exit 1
# /tmp last: DIR may lie under /tmp, and after that bind its path leads elsewhere.
for pair in log:/var/log lib:/var/lib/clonezilla www:/var/www/html tmp:/tmp; do
    mkdir -p "$dir/$role-${pair%%:*}" "${pair#*:}"
    mount --bind "$dir/$role-${pair%%:*}" "${pair#*:}" || exit 1
done
# lighttpd (the real feeder's HTTP server) refuses to start without its log directory.
mkdir -p /var/log/lighttpd && chown www-data:www-data /var/log/lighttpd 2>/dev/null
export PATH="$dir/shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" TERM=xterm LANG=C.UTF-8 use_os_prober=no
"$@"
rc=$?
echo "[clonezilla-isolated] $role: $1 exited with status $rc" >&2
exit $rc
