#!/usr/bin/env bash
# netns-lan.sh - a private LAN in network namespaces for multicast, DHCP and TFTP tests.
#
#   ${PREFIX}sw : bridge br0 (no address, multicast snooping off: floods like a plain switch)
#   ${PREFIX}srv: dev lsnet0 10.79.N.1/24      ${PREFIX}cK: dev lsnet0 10.79.N.(10+K)/24
#
# Only namespaces are touched: veth pairs are created inside the switch namespace and one end
# is moved into each host namespace; no namespace has a route out. Usage (root):
#   netns-lan.sh up PREFIX NET CLIENTS     e.g. up ls1- 10.79.1 3
#   netns-lan.sh down PREFIX               remove every namespace of PREFIX
#   netns-lan.sh loss PREFIX HOST PERMILLE drop that share of the data-sized (> 1000 byte) UDP
#                                          datagrams the switch forwards to HOST (nftables,
#                                          bridge family). Control packets pass: udp-receiver
#                                          never repeats a CONNECT_REQ whose reply was lost.
# With ethtool present every host's lsnet0 segments UDP GSO runs on transmit and does GRO on
# receive, as a physical NIC does; without it (or with LSNET_PLAIN=1: veth defaults) GSO runs
# cross the bridge whole and there is no GRO for single datagrams.
set -euo pipefail
cmd="${1:-}"; P="${2:-}"
case "$P" in ""|*[!A-Za-z0-9_-]*) echo "netns-lan: PREFIX must be [A-Za-z0-9_-]+" >&2; exit 2 ;; esac
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

up() {
  local net="$1" clients="$2"
  ip netns add "${P}sw"
  in_ns "${P}sw" ip link set lo up
  in_ns "${P}sw" ip link add br0 type bridge mcast_snooping 0
  in_ns "${P}sw" ip link set br0 up
  add_host srv "$net.1"
  for k in $(seq 1 "$clients"); do add_host "c$k" "$net.$((10 + k))"; done
}

add_host() {
  local name="$1" ip="$2" ns="${P}$1"
  ip netns add "$ns"
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
  in_ns "$ns" ip link set lo up
  in_ns "${P}sw" ip link add "p-$name" type veth peer name lsnet0
  in_ns "${P}sw" ip link set lsnet0 netns "$ns"
  in_ns "${P}sw" ip link set "p-$name" master br0 up
  in_ns "$ns" ip addr add "$ip/24" brd + dev lsnet0
  in_ns "$ns" ip link set lsnet0 up
  # Behave like a real NIC: UDP GSO runs are cut into single datagrams when they leave the host
  # (so the switch, and any loss rule, sees what a wire would carry), and GRO is on for receive.
  # The switch port does no TCP segmentation either: veth hands frames to the receiving NAPI
  # (where GRO runs) only when the sending side cannot build TSO frames.
  if [ "${LSNET_PLAIN:-0}" != 1 ] && command -v ethtool >/dev/null; then
    in_ns "$ns" ethtool -K lsnet0 tx-udp-segmentation off gro on >/dev/null 2>&1 || true
    in_ns "${P}sw" ethtool -K "p-$name" tso off tx-tcp-accecn-segmentation off >/dev/null 2>&1 \
      || in_ns "${P}sw" ethtool -K "p-$name" tso off >/dev/null 2>&1 || true
  fi
  in_ns "$ns" ip route add 224.0.0.0/4 dev lsnet0
}

down() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^${P}" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

loss() {   # the switch drops single data datagrams on their way out of HOST's port (its ingress wire)
  local host="$1" permille="$2" share
  # numgen's values are 0-999: "< 1000" is out of its range, so 1000 drops every one plainly.
  if [ "$permille" -ge 1000 ]; then share=""; else share="numgen random mod 1000 < $permille"; fi
  in_ns "${P}sw" nft -f - <<NFT
table bridge lsloss_$host {
  chain forward {
    type filter hook forward priority 0; policy accept;
    oifname "p-$host" udp length > 1000 $share counter drop
  }
}
NFT
}

case "$cmd" in
  up) up "${3:?NET}" "${4:?CLIENTS}" ;;
  down) down ;;
  loss) loss "${3:?HOST}" "${4:?PERMILLE}" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
