#!/usr/bin/env bash
# The servers of the TLS-miner captures in pcaps/encrypted, brought back to life for `--probe`
# (ProbeAnalyzeTests): in namespace sstarget-$$, on its loopback — the sensor runs inside it (ip netns
# exec), so nothing is routed from here and two runs at once cannot meet:
#   203.0.113.1:3333  and 203.0.113.3:14444 — scripted CryptoNote pools over TLS,
#   203.0.113.2:443   — an HTTPS server (nginx), not a pool,
#   10.66.99.1:3333   — a CryptoNote pool over TLS on a private address,
#   198.51.100.90:3336 — a Stratum V2 pool (its Noise handshake; stratum-v2.pcap's encrypted miner).
#   probe_targets.sh up DIR | down DIR      (DIR/ready once set up; DIR/ns names the namespace)
set -uo pipefail
cmd=$1; D=$2
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$cmd" = down ]; then
    ns=$(cat "$D/ns" 2>/dev/null) || exit 0
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    exit 0
fi
ns=sstarget-$$
echo "$ns" > "$D/ns"
trap 'touch "$D/ready"' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
for a in 203.0.113.1 203.0.113.2 203.0.113.3 10.66.99.1 198.51.100.90; do ip -n "$ns" addr add $a/32 dev lo; done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 30 -subj /CN=localhost 2>/dev/null
for t in 203.0.113.1:3333 203.0.113.3:14444 10.66.99.1:3333; do
    ip netns exec "$ns" python3 "$HERE/probe_pools.py" cryptonote "${t%:*}" "${t#*:}" --tls "$D/cert.pem" "$D/key.pem" >"$D/pool-$t.log" 2>&1 &
done
ip netns exec "$ns" python3 "$HERE/sv2_pool.py" 198.51.100.90 3336 >"$D/sv2-pool.log" 2>&1 &
mkdir -p "$D/nginx"
cat > "$D/nginx/nginx.conf" <<CONF
daemon off; pid $D/nginx/pid; error_log $D/nginx/error.log; worker_processes 1;
events {}
http { access_log off; client_body_temp_path $D/nginx; proxy_temp_path $D/nginx; fastcgi_temp_path $D/nginx;
       uwsgi_temp_path $D/nginx; scgi_temp_path $D/nginx;
       server { listen 203.0.113.2:443 ssl; ssl_certificate $D/cert.pem; ssl_certificate_key $D/key.pem; root $D/nginx; } }
CONF
ip netns exec "$ns" nginx -c "$D/nginx/nginx.conf" -p "$D/nginx" >/dev/null 2>&1 &
for _ in $(seq 1 50); do
    ok=1
    for t in 203.0.113.1:3333 203.0.113.3:14444 10.66.99.1:3333 203.0.113.2:443 198.51.100.90:3336; do
        ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/${t%:*}/${t#*:}" 2>/dev/null || ok=0
    done
    [ $ok = 1 ] && exit 0
    sleep 0.2
done
echo "servers did not start" >&2
exit 1
