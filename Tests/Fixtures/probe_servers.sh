#!/usr/bin/env bash
# Real servers that are not pools, and scripted pools of every dialect, in one network namespace for
# the probe's tests (ProbeServersTests). Each server is Debian's own daemon with a minimal config.
#
#   probe_servers.sh up DIR     namespace ssprobe-$$, every server on 10.77.0.2 (its loopback): the
#                               probe runs inside it (ip netns exec), so nothing is routed from here
#                               and two runs at once cannot meet; writes DIR/servers ("name port" per
#                               line, only servers that listen), DIR/ns, and DIR/ready last
#   probe_servers.sh down DIR   stops everything and removes the namespace
set -uo pipefail
cmd=$1; D=$2
HERE=$(cd "$(dirname "$0")" && pwd)
A=10.77.0.2
if [ "$cmd" = down ]; then
    ns=$(cat "$D/ns" 2>/dev/null) || exit 0
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 0.3
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    exit 0
fi
ns=ssprobe-$$
echo "$ns" > "$D/ns"
# DIR/ready tells the test it is over, also when setting up failed (DIR/servers then lacks servers).
trap 'touch "$D/ready"' EXIT
chmod 755 "$D"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add $A/32 dev lo
inns() { ip netns exec "$ns" "$@"; }
: > "$D/servers"

# Scripted pools: each speaks one dialect, in the clear and over TLS (an XMRig-style certificate).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/pool.key" -out "$D/pool.pem" -days 30 -subj /CN=pool.example.org 2>/dev/null
port=3330
for dialect in cryptonote stratum-v1 ethereumstratum eth-proxy kawpow webminer webminerpool; do
    ip netns exec "$ns" python3 "$HERE/probe_pools.py" "$dialect" $A $port >"$D/pool-$dialect.log" 2>&1 &
    ip netns exec "$ns" python3 "$HERE/probe_pools.py" "$dialect" $A $((port + 100)) --tls "$D/pool.pem" "$D/pool.key" >"$D/pool-$dialect-tls.log" 2>&1 &
    echo "pool-$dialect $port" >> "$D/servers.want"; echo "pool-$dialect-tls $((port + 100))" >> "$D/servers.want"
    port=$((port + 1))
done

# Stratum V2 (no TLS: its own Noise channel): a pool, and a template provider that refuses the mining protocol.
ip netns exec "$ns" python3 "$HERE/sv2_pool.py" $A 34254 >"$D/sv2-pool.log" 2>&1 &
echo "sv2-pool 34254" >> "$D/servers.want"
ip netns exec "$ns" python3 "$HERE/sv2_pool.py" $A 8442 --mode template-provider >"$D/sv2-tp.log" 2>&1 &
echo "sv2-template-provider 8442" >> "$D/servers.want"

# HTTP: nginx.
mkdir -p "$D/nginx"
cat > "$D/nginx/nginx.conf" <<CONF
daemon off; pid $D/nginx/pid; error_log $D/nginx/error.log; worker_processes 1;
events {}
http { access_log off; client_body_temp_path $D/nginx; proxy_temp_path $D/nginx; fastcgi_temp_path $D/nginx;
       uwsgi_temp_path $D/nginx; scgi_temp_path $D/nginx; server { listen $A:80; root $D/nginx; } }
CONF
ip netns exec "$ns" nginx -c "$D/nginx/nginx.conf" -p "$D/nginx" >/dev/null 2>&1 &
echo "http 80" >> "$D/servers.want"

# SSH: OpenSSH with a throwaway host key.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$D/ssh_host_key"
ip netns exec "$ns" /usr/sbin/sshd -D -f /dev/null -h "$D/ssh_host_key" -o ListenAddress=$A -o PidFile=none -p 22 >/dev/null 2>&1 &
echo "ssh 22" >> "$D/servers.want"

# SMTP: OpenSMTPD, local delivery only.
cat > "$D/smtpd.conf" <<CONF
listen on $A port 25
action "local" mbox
match from any for local action "local"
CONF
chmod 600 "$D/smtpd.conf"
# Its control socket is always /var/run/smtpd.sock: a private /var/run (a mount namespace) lets two
# runs (or a system smtpd) coexist.
mkdir -p "$D/smtpd-run"
ip netns exec "$ns" unshare --mount sh -c "mount --bind '$D/smtpd-run' /var/run && exec smtpd -d -f '$D/smtpd.conf'" >"$D/smtpd.log" 2>&1 &
echo "smtp 25" >> "$D/servers.want"

# IMAP: Dovecot, static users, no TLS.
mkdir -p "$D/dovecot/run" "$D/dovecot/mail"
cat > "$D/dovecot/dovecot.conf" <<CONF
protocols = imap
listen = $A
base_dir = $D/dovecot/run
state_dir = $D/dovecot/run
log_path = $D/dovecot/log
ssl = no
mail_location = maildir:$D/dovecot/mail/%u
passdb {
  driver = static
  args = password=probe
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/dovecot/mail/%u
}
CONF
ip netns exec "$ns" dovecot -F -c "$D/dovecot/dovecot.conf" >/dev/null 2>&1 &
echo "imap 143" >> "$D/servers.want"

# FTP: vsftpd.
cat > "$D/vsftpd.conf" <<CONF
listen=YES
listen_address=$A
anonymous_enable=NO
local_enable=NO
secure_chroot_dir=/var/run/vsftpd/empty
CONF
mkdir -p /var/run/vsftpd/empty
ip netns exec "$ns" vsftpd "$D/vsftpd.conf" >/dev/null 2>&1 &
echo "ftp 21" >> "$D/servers.want"

# MQTT: Mosquitto.
printf 'listener 1883 %s\nallow_anonymous true\n' $A > "$D/mosquitto.conf"
ip netns exec "$ns" mosquitto -c "$D/mosquitto.conf" >/dev/null 2>&1 &
echo "mqtt 1883" >> "$D/servers.want"

# Redis and memcached.
ip netns exec "$ns" redis-server --bind $A --port 6379 --save '' --appendonly no --protected-mode no --dir "$D" >/dev/null 2>&1 &
echo "redis 6379" >> "$D/servers.want"
ip netns exec "$ns" memcached -u nobody -l $A -p 11211 -U 0 >/dev/null 2>&1 &
echo "memcached 11211" >> "$D/servers.want"

# XMPP: Prosody, one virtual host, no TLS.
mkdir -p "$D/prosody/data"; chown -R prosody "$D/prosody"
cat > "$D/prosody/prosody.cfg.lua" <<CONF
pidfile = "$D/prosody/pid"
data_path = "$D/prosody/data"
interfaces = { "$A" }
c2s_ports = { 5222 }
s2s_ports = { }
log = { error = "$D/prosody/log" }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping" }
modules_disabled = { "s2s"; "tls" }
c2s_require_encryption = false
VirtualHost "chat.example.org"
CONF
# Prosody refuses root (mod_posix): it runs as its own user.
ip netns exec "$ns" su prosody -s /bin/sh -c "prosody -F --config $D/prosody/prosody.cfg.lua" >/dev/null 2>&1 &
echo "xmpp 5222" >> "$D/servers.want"

# SIP: Kamailio over TCP, answering every request 404.
cat > "$D/kamailio.cfg" <<CONF
#!KAMAILIO
listen=tcp:$A:5060
children=1
tcp_children=1
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route { sl_send_reply("404", "Not here"); exit; }
CONF
ip netns exec "$ns" kamailio -DD -E -f "$D/kamailio.cfg" -P "$D/kamailio.pid" -Y "$D" >"$D/kamailio.log" 2>&1 &
echo "sip 5060" >> "$D/servers.want"

# Electrum protocol (JSON-RPC over TCP, the pools' own framing): ElectrumX from PyPI, in front of the
# least of a regtest bitcoind it needs to start serving (Tests/Fixtures/fake_bitcoind.py).
if command -v electrumx_server >/dev/null; then
    mkdir -p "$D/electrumx"
    ip netns exec "$ns" python3 "$HERE/fake_bitcoind.py" 127.0.0.1 18443 >"$D/bitcoind.log" 2>&1 &
    ip netns exec "$ns" env COIN=Bitcoin NET=regtest DB_ENGINE=leveldb DB_DIRECTORY="$D/electrumx" ALLOW_ROOT=1 \
        DAEMON_URL=http://probe:probe@127.0.0.1:18443/ SERVICES=tcp://$A:50001 PEER_DISCOVERY=off \
        electrumx_server >"$D/electrumx.log" 2>&1 &
    echo "electrum 50001" >> "$D/servers.want"
fi

# PostgreSQL: a throwaway cluster (it refuses to run as root).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$D/pg"; chown postgres "$D/pg"
if su postgres -s /bin/sh -c "$PGBIN/initdb -D $D/pg/data -A trust -U postgres" >/dev/null 2>&1; then
    ip netns exec "$ns" su postgres -s /bin/sh -c "$PGBIN/postgres -D $D/pg/data -c listen_addresses=$A -c unix_socket_directories=$D/pg -p 5432" >"$D/pg/log" 2>&1 &
    echo "postgresql 5432" >> "$D/servers.want"
fi

# Wait until each listens (at most 20 s in all); list those that do.
for _ in $(seq 1 100); do
    all=1
    while read -r name p; do
        grep -q "^$name " "$D/servers" && continue
        if inns bash -c "exec 3<>/dev/tcp/$A/$p" 2>/dev/null; then echo "$name $p" >> "$D/servers"; else all=0; fi
    done < "$D/servers.want"
    [ $all = 1 ] && break
    sleep 0.2
done
exit 0
