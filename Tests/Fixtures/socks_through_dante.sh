#!/usr/bin/env bash
# Records OUT.pcap: a scripted miner (stratum_pair.py) reaching a pool through a real SOCKS server
# (Debian's dante-server) — SOCKS5 with the pool's host name (dante resolves it, as XMRig's --proxy
# leaves it to), SOCKS5 with an IPv4 address, and SOCKS4 — captured between the miner and the proxy.
#
#   socks_through_dante.sh OUT.pcap
#
# Namespaces: miner (10.67.0.10) — proxy (10.67.0.1 | 10.68.0.1) — pool (10.68.0.20, "pool.supportxmr.com").
set -euo pipefail
# A test runner's children inherit its blocked signals (Foundation's Process keeps the mask): unblock
# them, or the TERM that stops tcpdump and the proxy never lands.
if [ -z "${SIGNALS_UNBLOCKED:-}" ]; then
    exec env SIGNALS_UNBLOCKED=1 /usr/bin/python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_SETMASK, [])
os.execv("/bin/bash", ["/bin/bash"] + sys.argv[1:])' "$0" "$@"
fi
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/socks-dante.XXXXXX)
M=ssdante-m P=ssdante-p Q=ssdante-q
cleanup() {
    for ns in $M $P $Q; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; done
    rm -rf "$T" /etc/netns/$P
}
trap cleanup EXIT
cleanup; T=$(mktemp -d /tmp/socks-dante.XXXXXX)
for ns in $M $P $Q; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add sdm netns $M type veth peer name sdp netns $P
ip link add sdx netns $P type veth peer name sdq netns $Q
ip -n $M addr add 10.67.0.10/24 dev sdm; ip -n $P addr add 10.67.0.1/24 dev sdp
ip -n $P addr add 10.68.0.1/24 dev sdx;  ip -n $Q addr add 10.68.0.20/24 dev sdq
for x in "$M sdm" "$P sdp" "$P sdx" "$Q sdq"; do set -- $x; ip -n $1 link set $2 up; done
# The proxy resolves the pool's name from its own hosts file (ip netns exec binds /etc/netns/NS/hosts).
mkdir -p /etc/netns/$P
printf '127.0.0.1 localhost\n10.68.0.20 pool.supportxmr.com\n' > /etc/netns/$P/hosts
cat > "$T/danted.conf" <<CONF
logoutput: $T/danted.log
internal: 10.67.0.1 port = 1080
external: 10.68.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 protocol: tcp }
CONF
ip netns exec $Q $PY "$HERE/stratum_pair.py" pool 10.68.0.20 3333 --hold 20 >"$T/pool.log" 2>&1 &
ip netns exec $P danted -f "$T/danted.conf" >/dev/null 2>&1 &
ip netns exec $P tcpdump -i sdp -U -s 0 -w "$T/out.pcap" 'tcp port 1080' </dev/null >/dev/null 2>&1 &
TCPDUMP=$!
sleep 2
ip netns exec $M $PY "$HERE/stratum_pair.py" miner pool.supportxmr.com 3333 --shares 3 --interval 0.2 --rig socks5-name --socks5 10.67.0.1:1080
ip netns exec $M $PY "$HERE/stratum_pair.py" miner 10.68.0.20 3333 --shares 3 --interval 0.2 --rig socks5-ip --socks5 10.67.0.1:1080
ip netns exec $M $PY "$HERE/stratum_pair.py" miner 10.68.0.20 3333 --shares 3 --interval 0.2 --rig socks4 --socks4 10.67.0.1:1080
sleep 1
# TERM, not INT: a background job of a non-interactive shell ignores SIGINT.
kill -TERM $TCPDUMP; wait $TCPDUMP || true
cp "$T/out.pcap" "$OUT"
