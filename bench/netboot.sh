#!/usr/bin/env bash
# bench/netboot.sh - PXE boot times with ocs-netboot against dnsmasq 2.90, same run and tree.
#
# One netboot tree built by `ocs-netboot prepare` (Debian's pxelinux and GRUB, a live medium
# holding Debian's cloud kernel and an empty initramfs). The same tree is served by dnsmasq
# (full DHCP + TFTP, its defaults: ping check on) and by `ocs-netboot serve --mode
# start-new-dhcpd` (also with --ipv6-ra: "ours+ra"); qemu (TCG) boots SeaBIOS + iPXE (-> PXELINUX) and OVMF + iPXE EFI (-> GRUB)
# one at a time, REPEAT times (default 1). Printed per boot: seconds from qemu start to the
# menu config read (pxelinux.cfg/default, grub/grub.cfg) and to the kernel's "Command line:".
# Needs root, dnsmasq, qemu-system-x86, ovmf, ipxe-qemu, pxelinux, grub-efi-amd64-bin and a
# kernel: KERNEL=path (default /var/cache/liteserver-test/vmlinuz, which .ci/run fetches).
# SERVERS="dnsmasq ours" picks the servers.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
REPEAT="${REPEAT:-1}"; KERNEL="${KERNEL:-/var/cache/liteserver-test/vmlinuz}"
for t in dnsmasq qemu-system-x86_64 swift; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
[ -s "$KERNEL" ] || { echo "no kernel at $KERNEL (set KERNEL=)" >&2; exit 1; }
(cd "$HERE" && swift build -c release --product ocs-netboot >/dev/null)
OURS="$HERE/.build/release/ocs-netboot"; LAN="$HERE/scripts/netns-lan.sh"
W="$(mktemp -d /dev/shm/liteserver-netboot.XXXXXX)"; P="lsnb$$-"; NET="10.79.$(( ($$ % 200) + 20 ))"; SRV="$NET.1"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; "$LAN" down "$P" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
"$LAN" up "$P" "$NET" 1 >/dev/null
ip netns exec "${P}sw" ip tuntap add dev nbtap0 mode tap
ip netns exec "${P}sw" ip link set nbtap0 master br0 up

mkdir -p "$W/medium/live"
cp "$KERNEL" "$W/medium/live/vmlinuz"
python3 -c "
name = b'TRAILER!!!'
h = ('070701' + ''.join('%08X' % v for v in [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, len(name) + 1, 0])).encode() + name + b'\0'
open('$W/medium/live/initrd.img', 'wb').write(h + b'\0' * ((4 - len(h) % 4) % 4))"
head -c 1000000 /dev/urandom > "$W/medium/live/filesystem.squashfs"
"$OURS" prepare --tftp-root "$W/tftp" --server "$SRV" --live-media "$W/medium" --serial 0,115200 \
  --extra-boot-param 'console=ttyS0,115200 panic=-1' --timeout 1 --keyboard us 2>/dev/null

start_server() {   # dnsmasq|ours|ours+ra -> log path in $LOG
  LOG="$W/$1.log"; : > "$LOG"
  if [ "$1" = dnsmasq ]; then
    printf '%s\n' port=0 interface=lsnet0 bind-interfaces user=root group=root log-dhcp "log-facility=$LOG" \
      "dhcp-leasefile=$W/dnsmasq.leases" "dhcp-range=$NET.100,$NET.199,10m" enable-tftp "tftp-root=$W/tftp" \
      dhcp-match=set:efi64,option:client-arch,7 dhcp-match=set:efi64,option:client-arch,9 \
      dhcp-boot=tag:efi64,bootx64.efi dhcp-boot=tag:!efi64,pxelinux.0 > "$W/dnsmasq.conf"
    rm -f "$W/dnsmasq.leases"
    ip netns exec "${P}srv" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" --pid-file= </dev/null >/dev/null 2>&1 &
  else
    rm -rf "$W/state"
    local ra=()
    if [ "$1" = ours+ra ]; then
      ra=(--ipv6-ra)
      ip netns exec "${P}srv" sysctl -qw net.ipv6.conf.lsnet0.accept_dad=0 net.ipv6.conf.lsnet0.disable_ipv6=0
    fi
    ip netns exec "${P}srv" "$OURS" serve -i lsnet0 --mode start-new-dhcpd --tftp-root "$W/tftp" --extra-root "$W/medium" \
      --range "$NET.100-$NET.199" --state-dir "$W/state" "${ra[@]}" </dev/null >"$LOG" 2>&1 &
  fi
  SERVER_PID=$!; PIDS+=("$SERVER_PID"); sleep 1
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; }

boot() {   # bios|uefi server-log -> "config_s kernel_s"
  local fw=$1 log=$2 serial="$W/$1.serial" args config pattern t0 now tc="-" tk="-"
  rm -f "$serial"
  if [ "$fw" = bios ]; then
    args=(-device e1000,netdev=n0,mac=52:54:00:77:01:10,bootindex=1 -boot n); pattern='sent .*pxelinux\.cfg/default( |$)'
  else
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$W/vars.fd"
    args=(-machine q35 -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
          -drive "if=pflash,format=raw,file=$W/vars.fd" -device e1000,netdev=n0,mac=52:54:00:77:01:20,bootindex=1)
    pattern='sent .*grub/grub\.cfg( |$)'
  fi
  local lines_before; lines_before=$(wc -l < "$log")
  t0=$(date +%s.%N)
  ip netns exec "${P}sw" qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -monitor none -serial "file:$serial" \
    -netdev tap,id=n0,ifname=nbtap0,script=no,downscript=no "${args[@]}" </dev/null >/dev/null 2>&1 &
  local qemu=$!; PIDS+=("$qemu")
  for _ in $(seq 1 1800); do
    now=$(date +%s.%N)
    if [ "$tc" = - ] && tail -n +"$((lines_before + 1))" "$log" | grep -aEq "$pattern"; then tc=$(awk -v a="$t0" -v b="$now" 'BEGIN{printf "%.2f", b-a}'); fi
    if [ "$tk" = - ] && grep -aq "Command line:" "$serial" 2>/dev/null; then tk=$(awk -v a="$t0" -v b="$now" 'BEGIN{printf "%.2f", b-a}'); fi
    [ "$tk" != - ] && break
    kill -0 "$qemu" 2>/dev/null || break
    sleep 0.1
  done
  kill "$qemu" 2>/dev/null || true; wait "$qemu" 2>/dev/null || true
  echo "$tc $tk"
}

printf '%-8s %-6s %12s %12s\n' server boot "config s" "kernel s"
declare -A BOOT=()
for _ in $(seq 1 "$REPEAT"); do
  for server in ${SERVERS:-dnsmasq ours ours+ra}; do
    start_server "$server"
    for fw in bios uefi; do
      read -r c k < <(boot "$fw" "$LOG")
      printf '%-8s %-6s %12s %12s\n' "$server" "$fw" "$c" "$k"
      BOOT[$server-$fw]=$k
    done
    stop_server
  done
  for fw in bios uefi; do bench_result netboot "PXE $fw (qemu TCG) to the kernel" "s" lower dnsmasq "${BOOT[dnsmasq-$fw]:--}" "${BOOT[ours-$fw]:--}"; done
done
