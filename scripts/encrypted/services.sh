# Scenarios of scripts/record-encrypted with real servers from Debian (sourced; uses its helpers
# net, inc, ins, capture, finish and $T, $S, $PY, $HERE). Each is a real server configured as its
# users would, and a real client program (or the server's own client library) with activity at
# random times. Servers that start with a plaintext greeting before TLS (PostgreSQL's SSLRequest,
# NATS's INFO) are in the set on purpose: they are what a tap meets too.

# served N NAME ROLE PORT WAIT SERVER...: SERVER started in the server's namespace (192.0.2.N), WAIT
# seconds for it to listen, then apps.py ROLE against it from the client's side, captured as NAME
# (both outputs in $T/NAME.log).
served() {
    local n=$1 name=$2 role=$3 port=$4 wait=$5
    shift 5
    ins "$n" "$@" >>"$T/$name.log" 2>&1 &
    sleep "$wait"
    capture "$n" "$name"
    inc "$n" $PY "$HERE/apps.py" "$role" --host "192.0.2.$n" --port "$port" --seconds "$S" >>"$T/$name.log" 2>&1 || true
    finish "$name"
}

postgres_app() {
    local n=30 srv=192.0.2.30 d="$T/pg"
    net $n 10.66.$n.10 $srv
    mkdir -p "$d" && echo secret > "$T/pg.pw" && chown postgres "$d" "$T/pg.pw"
    su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/initdb -D $d/data -A scram-sha-256 --pwfile=$T/pg.pw -U app" >"$T/pg.log" 2>&1
    cp "$T/plain.pem" "$d/data/server.crt"; cp "$T/plain.key" "$d/data/server.key"
    chown postgres "$d/data/server.crt" "$d/data/server.key"; chmod 600 "$d/data/server.key"
    printf "listen_addresses = '%s,127.0.0.1'\nssl = on\nunix_socket_directories = '%s'\n" $srv "$d" >> "$d/data/postgresql.conf"
    printf 'hostssl all all 10.66.0.0/16 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n' >> "$d/data/pg_hba.conf"
    ins $n su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/postgres -D $d/data" >>"$T/pg.log" 2>&1 &
    sleep 3
    ins $n env PGPASSWORD=secret psql -h 127.0.0.1 -U app -d postgres -qc "CREATE DATABASE app" >>"$T/pg.log" 2>&1
    capture $n postgres-listen
    ins $n env PGPASSWORD=secret $PY "$HERE/apps.py" pg-notifier --host 127.0.0.1 --port 5432 --seconds "$S" >>"$T/pg.log" 2>&1 &
    inc $n $PY "$HERE/apps.py" postgres --host $srv --port 5432 --seconds "$S" >>"$T/pg.log" 2>&1 || true
    finish postgres-listen
}

redis_queue() {
    local n=31 srv=192.0.2.31
    net $n 10.66.$n.10 $srv
    ins $n redis-server --port 0 --tls-port 6380 --bind $srv --tls-cert-file "$T/plain.pem" --tls-key-file "$T/plain.key" \
        --tls-ca-cert-file "$T/plain.pem" --tls-auth-clients no --unixsocket "$T/redis.sock" --unixsocketperm 777 \
        --save '' --appendonly no --dir "$T" --requirepass secret >"$T/redis.log" 2>&1 &
    sleep 1
    capture $n redis-queue
    ins $n $PY "$HERE/apps.py" redis-producer --host "$T/redis.sock" --port 0 --seconds "$S" >>"$T/redis.log" 2>&1 &
    inc $n $PY "$HERE/apps.py" redis-worker --host $srv --port 6380 --seconds "$S" >>"$T/redis.log" 2>&1 || true
    finish redis-queue
}

xmpp_chat() {
    local n=33 srv=192.0.2.33 d="$T/prosody"
    net $n 10.66.$n.10 $srv
    mkdir -p "$d/data"
    cat > "$d/prosody.cfg.lua" <<CONF
run_as_root = true
daemonize = false
pidfile = "$d/prosody.pid"
data_path = "$d/data"
interfaces = { "$srv" }
c2s_ports = { 5222 }
c2s_direct_tls_ports = { 5223 }
s2s_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "carbons"; "pep"; "private"; "vcard4"; "smacks" }
authentication = "internal_plain"
log = { info = "$d/prosody.log" }
ssl = { certificate = "$T/plain.pem"; key = "$T/plain.key" }
VirtualHost "chat.example.org"
CONF
    for u in alice bob; do prosodyctl --config "$d/prosody.cfg.lua" register $u chat.example.org secret >>"$d/ctl.log" 2>&1; done
    ins $n prosody -F --config "$d/prosody.cfg.lua" >>"$d/ctl.log" 2>&1 &
    sleep 2
    capture $n xmpp-chat
    inc $n $PY "$HERE/apps.py" xmpp --host $srv --port 5223 --seconds "$S" >"$T/xmpp.log" 2>&1 || true
    finish xmpp-chat
}

irc_chat() {
    local n=34 srv=192.0.2.34
    net $n 10.66.$n.10 $srv
    cat > "$T/ngircd.conf" <<CONF
[Global]
    Name = irc.example.org
    Info = operations chat
    Listen = $srv
    Ports = 6667
    PidFile = $T/ngircd.pid
[Limits]
    PingTimeout = 120
[Options]
    PAM = no
    Ident = no
    DNS = no
[SSL]
    CertFile = $T/plain.pem
    KeyFile = $T/plain.key
    Ports = 6697
[Channel]
    Name = #ops
CONF
    served $n irc-chat irc 6697 1 ngircd -n -f "$T/ngircd.conf"
}

syslog_tls() {
    local n=35 srv=192.0.2.35
    net $n 10.66.$n.10 $srv
    mkdir -p "$T/rsyslog-s" "$T/rsyslog-c"
    local drv="DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"$T/plain.pem\""
    cat > "$T/rsyslog-s.conf" <<CONF
global(workDirectory="$T/rsyslog-s" $drv DefaultNetstreamDriverCertFile="$T/plain.pem" DefaultNetstreamDriverKeyFile="$T/plain.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon")
input(type="imtcp" port="6514" address="$srv")
*.* action(type="omfile" file="$T/rsyslog-s/all.log")
CONF
    cat > "$T/rsyslog-c.conf" <<CONF
global(workDirectory="$T/rsyslog-c" $drv)
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="5514")
*.* action(type="omfwd" target="$srv" port="6514" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="anon")
CONF
    ins $n rsyslogd -n -f "$T/rsyslog-s.conf" -i "$T/rsyslog-s.pid" >"$T/rsyslog.log" 2>&1 &
    sleep 1
    capture $n syslog-tls
    inc $n rsyslogd -n -f "$T/rsyslog-c.conf" -i "$T/rsyslog-c.pid" >>"$T/rsyslog.log" 2>&1 &
    local client=$!
    # Services log at random: bursts of a few lines, quiet minutes.
    (end=$(( $(date +%s) + S )); while [ "$(date +%s)" -lt $end ]; do sleep $(( RANDOM % 40 + 1 ))
        for _ in $(seq $(( RANDOM % 4 + 1 ))); do
            inc $n logger -n 127.0.0.1 -P 5514 -d -t "app$(( RANDOM % 5 ))" "request id=$RANDOM$RANDOM path=/api/v1/items/$RANDOM status=$(( 200 + RANDOM % 3 * 100 )) took=$(( RANDOM % 900 ))ms"
        done; done)
    kill $client 2>/dev/null || true
    finish syslog-tls
}

etcd_watch() {
    local n=36 srv=192.0.2.36
    net $n 10.66.$n.10 $srv
    ins $n etcd --name e1 --data-dir "$T/etcd" --listen-client-urls "https://$srv:2379,http://127.0.0.1:2379" \
        --advertise-client-urls "https://$srv:2379" --cert-file "$T/plain.pem" --key-file "$T/plain.key" \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster e1=http://127.0.0.1:2380 >"$T/etcd.log" 2>&1 &
    sleep 3
    capture $n etcd-watch
    local ctl=(env ETCDCTL_API=3 etcdctl --endpoints "https://$srv:2379" --insecure-transport=false --insecure-skip-tls-verify)
    # A service watching its configuration, and holding a lease it keeps alive (its registration).
    inc $n timeout "$S" "${ctl[@]}" watch --prefix /config/ >/dev/null 2>>"$T/etcd.log" &
    local watch=$! lease
    lease=$(inc $n timeout 20 "${ctl[@]}" lease grant 30 2>>"$T/etcd.log" | awk '{print $2}')
    inc $n timeout "$S" "${ctl[@]}" lease keep-alive "$lease" >/dev/null 2>>"$T/etcd.log" &
    local keep=$!
    (end=$(( $(date +%s) + S )); while [ "$(date +%s)" -lt $end ]; do sleep $(( RANDOM % 80 + 10 ))
        ins $n env ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:2379 put "/config/feature$(( RANDOM % 8 ))" "{\"enabled\":$(( RANDOM % 2 )),\"rollout\":$(( RANDOM % 100 ))}" >/dev/null 2>&1 || true; done)
    wait $watch $keep || true
    finish etcd-watch
}

nats_app() {
    local n=37 srv=192.0.2.37
    net $n 10.66.$n.10 $srv
    served $n nats-pubsub nats 4222 1 nats-server -a $srv -p 4222 --tls --tlscert "$T/plain.pem" --tlskey "$T/plain.key"
}

nginx_events() {
    local n=38 srv=192.0.2.38
    net $n 10.66.$n.10 $srv
    mkdir -p "$T/nginx"
    cat > "$T/nginx.conf" <<CONF
daemon off;
user root;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $T/nginx; proxy_temp_path $T/nginx; fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
    server {
        listen $srv:443 ssl http2;
        ssl_certificate $T/plain.pem;
        ssl_certificate_key $T/plain.key;
        location /events { proxy_pass http://127.0.0.1:8080; proxy_buffering off; proxy_read_timeout 1h; }
    }
}
CONF
    ins $n $PY "$HERE/apps.py" sse-server --port 8080 --seconds "$S" >"$T/sse.log" 2>&1 &
    ins $n nginx -c "$T/nginx.conf" >>"$T/sse.log" 2>&1 &
    sleep 1
    capture $n nginx-events
    # A dashboard following an event stream over HTTP/2 (curl, as a browser's EventSource would).
    inc $n curl -sk -N --http2 --max-time "$S" --resolve watch.example.org:443:$srv https://watch.example.org/events >/dev/null 2>>"$T/sse.log" || true
    finish nginx-events
}

prometheus_scrape() {
    local n=39 srv=192.0.2.39
    net $n 10.66.$n.10 $srv
    printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$T/plain.pem" "$T/plain.key" > "$T/node-web.yml"
    ins $n prometheus-node-exporter --web.listen-address=$srv:9100 --web.config.file="$T/node-web.yml" >"$T/node.log" 2>&1 &
    cat > "$T/prometheus.yml" <<CONF
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: node
    scheme: https
    tls_config:
      insecure_skip_verify: true
    static_configs:
      - targets: ['$srv:9100']
CONF
    sleep 1
    capture $n prometheus-scrape
    inc $n timeout "$S" prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/promdata" \
        --web.listen-address=127.0.0.1:9090 >>"$T/node.log" 2>&1 || true
    finish prometheus-scrape
}

mumble_voip() {
    local n=40 srv=192.0.2.40
    net $n 10.66.$n.10 $srv
    # murmurd drops to its own user: its files live in a directory that user owns.
    mkdir -p "$T/murmur" && chown mumble-server "$T/murmur"
    printf 'database=%s\nhost=%s\nport=64738\nsslCert=%s\nsslKey=%s\nlogfile=%s\nwelcometext=ops\nusers=20\n' \
        "$T/murmur/murmur.sqlite" $srv "$T/plain.pem" "$T/plain.key" "$T/murmur/murmur.log" > "$T/murmur.ini"
    served $n mumble-voip mumble 64738 2 murmurd -ini "$T/murmur.ini" -fg
}

amqp_broker() {
    local n=42 srv=192.0.2.42 d="$T/rabbit"
    net $n 10.66.$n.10 $srv
    mkdir -p "$d"
    cat > "$d/rabbitmq.conf" <<CONF
listeners.tcp = none
listeners.ssl.default = 5671
ssl_options.certfile = $T/plain.pem
ssl_options.keyfile = $T/plain.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
default_user = app
default_pass = secret
loopback_users = none
CONF
    local envs=(env HOME="$d" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log"
        RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_PID_FILE="$d/pid" RABBITMQ_ENABLED_PLUGINS_FILE="$d/plugins")
    echo '[].' > "$d/plugins"
    chown -R rabbitmq "$d"   # rabbitmq-server runs as its own user
    ins $n "${envs[@]}" rabbitmq-server >"$T/rabbit.log" 2>&1 &
    ins $n "${envs[@]}" rabbitmqctl wait "$d/pid" --timeout 60 >>"$T/rabbit.log" 2>&1 || true
    capture $n amqp-broker
    inc $n $PY "$HERE/apps.py" amqp --host $srv --port 5671 --seconds "$S" >>"$T/rabbit.log" 2>&1 || true
    finish amqp-broker
    ins $n "${envs[@]}" rabbitmqctl stop >/dev/null 2>&1 || true
}

vnc_desktop() {
    local n=43 srv=192.0.2.43
    net $n 10.66.$n.10 $srv
    cat "$T/plain.key" "$T/plain.pem" > "$T/vnc.pem"
    ins $n Xvfb :43 -screen 0 640x400x16 -nolisten tcp >"$T/vnc.log" 2>&1 &
    sleep 1
    # The desktop changes now and then (a status colour, as a monitoring wall does).
    (end=$(( $(date +%s) + S )); while [ "$(date +%s)" -lt $end ]; do sleep $(( RANDOM % 30 + 2 ))
        ins $n env DISPLAY=:43 xsetroot -solid "#$(printf '%02x%02x%02x' $(( RANDOM % 256 )) $(( RANDOM % 256 )) $(( RANDOM % 256 )))" 2>/dev/null || true; done) &
    local painter=$!
    ins $n x11vnc -display :43 -rfbport 5900 -listen $srv -ssl "$T/vnc.pem" -forever -shared -nopw -quiet >>"$T/vnc.log" 2>&1 &
    sleep 2
    capture $n vnc-desktop
    inc $n $PY "$HERE/apps.py" vnc --host $srv --port 5900 --seconds "$S" >>"$T/vnc.log" 2>&1 || true
    kill $painter 2>/dev/null || true
    finish vnc-desktop
}

memcached_cache() {
    local n=44 srv=192.0.2.44
    net $n 10.66.$n.10 $srv
    served $n memcached-tls memcached 11211 1 \
        memcached -u nobody -l $srv -p 11211 -Z -o "ssl_chain_cert=$T/plain.pem,ssl_key=$T/plain.key"
}

stunnel_rsync() {
    local n=45 srv=192.0.2.45
    net $n 10.66.$n.10 $srv
    mkdir -p "$T/rsync-src" "$T/rsync-dst"
    printf 'uid = root\ngid = root\nuse chroot = no\n[backup]\n  path = %s\n  read only = no\n' "$T/rsync-dst" > "$T/rsyncd.conf"
    ins $n rsync --daemon --no-detach --address=127.0.0.1 --port=873 --config="$T/rsyncd.conf" >"$T/rsync.log" 2>&1 &
    printf 'foreground = yes\npid =\n[rsync]\naccept = %s:874\nconnect = 127.0.0.1:873\ncert = %s\nkey = %s\n' $srv "$T/plain.pem" "$T/plain.key" > "$T/stunnel-s.conf"
    printf 'foreground = yes\npid =\nclient = yes\n[rsync]\naccept = 127.0.0.1:873\nconnect = %s:874\n' $srv > "$T/stunnel-c.conf"
    ins $n stunnel4 "$T/stunnel-s.conf" >>"$T/rsync.log" 2>&1 &
    sleep 1
    capture $n stunnel-rsync
    inc $n stunnel4 "$T/stunnel-c.conf" >>"$T/rsync.log" 2>&1 &
    local client=$!
    sleep 1
    # A backup job every 1-3 minutes; between runs a few files change.
    (end=$(( $(date +%s) + S )); while [ "$(date +%s)" -lt $end ]; do
        for _ in $(seq $(( RANDOM % 5 ))); do head -c $(( RANDOM * 4 )) /dev/urandom > "$T/rsync-src/file$(( RANDOM % 20 ))"; done
        inc $n rsync -a "$T/rsync-src/" rsync://127.0.0.1/backup/ >>"$T/rsync.log" 2>&1 || true
        sleep $(( RANDOM % 120 + 60 )); done)
    kill $client 2>/dev/null || true
    finish stunnel-rsync
}

nrpe_checks() {
    local n=46 srv=192.0.2.46
    net $n 10.66.$n.10 $srv
    cat > "$T/nrpe.cfg" <<CONF
pid_file=$T/nrpe.pid
server_address=$srv
server_port=5666
nrpe_user=nagios
nrpe_group=nagios
allowed_hosts=10.66.0.0/16
dont_blame_nrpe=0
ssl_cert_file=$T/plain.pem
ssl_privatekey_file=$T/plain.key
command[check_load]=/usr/lib/nagios/plugins/check_load -w 15,10,5 -c 30,25,20
command[check_disk]=/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /
command[check_procs]=/usr/lib/nagios/plugins/check_procs -w 250 -c 400
command[check_users]=/usr/lib/nagios/plugins/check_users -w 5 -c 10
CONF
    ins $n nrpe -c "$T/nrpe.cfg" -f >"$T/nrpe.log" 2>&1 &
    sleep 1
    capture $n nrpe-checks
    # A monitoring server's schedule: each service checked on its own interval, with Nagios's spread.
    local check loops=()
    for check in check_load:60 check_disk:300 check_procs:120 check_users:180; do
        (end=$(( $(date +%s) + S )); sleep $(( RANDOM % ${check#*:} )); while [ "$(date +%s)" -lt $end ]; do
            inc $n /usr/lib/nagios/plugins/check_nrpe -H $srv -c "${check%%:*}" >/dev/null 2>>"$T/nrpe.log" || true
            left=$(( end - $(date +%s) )); sleep $(( left < ${check#*:} ? (left > 0 ? left : 0) : ${check#*:} )); done) &
        loops+=($!)
    done
    wait "${loops[@]}"   # not the server or tcpdump, which run until stopped
    finish nrpe-checks
}

syncthing_pair() {
    local n=47 srv=192.0.2.47 c=10.66.47.10
    net $n $c $srv
    local side ids=()
    for side in a b; do
        mkdir -p "$T/sync-$side/data"
        syncthing generate --home="$T/sync-$side" --no-default-folder >/dev/null 2>&1
        ids+=("$(syncthing --home="$T/sync-$side" --device-id 2>/dev/null)")
    done
    # Two devices that know each other by address only: no discovery, relays, NAT or usage reports.
    $PY - "$T" "${ids[0]}" "${ids[1]}" $c $srv <<'PYCONF'
import sys, xml.etree.ElementTree as ET
t, ida, idb, ca, cb = sys.argv[1:]
for side, me, peer, my_addr, peer_addr in (("a", ida, idb, ca, cb), ("b", idb, ida, cb, ca)):
    path = "%s/sync-%s/config.xml" % (t, side)
    tree = ET.parse(path)
    root = tree.getroot()
    o = root.find("options")
    for tag, value in (("globalAnnounceEnabled", "false"), ("localAnnounceEnabled", "false"), ("relaysEnabled", "false"),
                       ("natEnabled", "false"), ("urAccepted", "-1"), ("startBrowser", "false"), ("crashReportingEnabled", "false"),
                       ("autoUpgradeIntervalH", "0")):
        (o.find(tag) if o.find(tag) is not None else ET.SubElement(o, tag)).text = value
    for e in o.findall("listenAddress"):
        o.remove(e)
    ET.SubElement(o, "listenAddress").text = "tcp://%s:22000" % my_addr
    root.find("gui").set("enabled", "false")
    d = ET.SubElement(root, "device", id=peer, name="peer", compression="metadata", introducer="false")
    ET.SubElement(d, "address").text = "tcp://%s:22000" % peer_addr
    f = ET.SubElement(root, "folder", id="team", label="team", path="%s/sync-%s/data" % (t, side), type="sendreceive",
                      rescanIntervalS="60", fsWatcherEnabled="false")
    for dev in (me, peer):
        ET.SubElement(f, "device", id=dev)
    tree.write(path)
PYCONF
    ins $n env HOME="$T/sync-b" syncthing serve --home="$T/sync-b" --no-browser --no-restart >"$T/sync-b.log" 2>&1 &
    sleep 1
    capture $n syncthing-pair
    inc $n env HOME="$T/sync-a" syncthing serve --home="$T/sync-a" --no-browser --no-restart >"$T/sync-a.log" 2>&1 &
    local client=$!
    # Someone edits a document now and then; the other side picks it up at its next rescan.
    (end=$(( $(date +%s) + S )); while [ "$(date +%s)" -lt $end ]; do sleep $(( RANDOM % 90 + 30 ))
        head -c $(( RANDOM % 4000 + 200 )) /dev/urandom | base64 > "$T/sync-a/data/notes-$(( RANDOM % 6 )).txt"; done)
    kill $client 2>/dev/null || true
    finish syncthing-pair
}
