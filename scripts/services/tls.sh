#!/usr/bin/env bash
# Starts/stops TLS listeners for the Redis, NATS, MQTT and RabbitMQ
# connectors' tests (tests/tls.rs), as processes of their own beside the
# system services, which stay untouched:
#   redis-server --tls-port   127.0.0.1:${PATCHBAY_TLS_REDIS_PORT:-16380}
#   nats-server (tls {})      127.0.0.1:${PATCHBAY_TLS_NATS_PORT:-14223}
#   mosquitto (TLS listener)  127.0.0.1:${PATCHBAY_TLS_MQTT_PORT:-18884}
#   RabbitMQ, a second node   127.0.0.1:${PATCHBAY_TLS_AMQP_PORT:-15681} (amqps)
# (the next free port, in steps of 10, when another checkout holds one).
# At start it makes a throwaway PKI under target/tls-services/pki (never
# committed): a test CA, a server certificate for DNS:localhost only (so
# 127.0.0.1 is a wrong host name), a "wrong" CA with the same subject but
# another key, and client certificates (one from each CA) for mTLS tests.
# The listeners accept but do not ask for client certificates.
# Paths and addresses go to target/tls-services.env, which the tests read
# (patchbay_testkit::tls). Both commands are idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE=$PWD/target/tls-services
PKI=$STATE/pki
ENV_FILE=target/tls-services.env
CHECKOUT=$(basename "$PWD" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z' | cut -c1-30)
RABBIT_NODE="patchbay_tls_$CHECKOUT@localhost"
RABBIT_BIN=/usr/lib/rabbitmq/bin

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }
free_port() { # the first port from $1 on, in steps of 10, nobody listens on
  local port=$1 tries=0
  while port_open "$port"; do
    port=$((port + 10)); tries=$((tries + 1))
    [ "$tries" -le 50 ] || { echo "tls.sh: no free port from $1" >&2; return 1; }
  done
  echo "$port"
}

# One key and certificate, signed by CA $2 (a self-signed CA when $2 is "-").
cert() { # name ca subject extensions
  local name=$1 ca=$2 subj=$3 ext=$4
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
  if [ "$ca" = - ]; then
    openssl req -x509 -new -key "$PKI/$name.key" -subj "$subj" -days 3 \
      -addext "$ext" -addext keyUsage=critical,keyCertSign,cRLSign -out "$PKI/$name.pem"
  else
    openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
    printf '%s\n' "$ext" | tr ';' '\n' >"$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" \
      -CAcreateserial -days 3 -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null
    rm -f "$PKI/$name.csr" "$PKI/$name.ext"
  fi
}

# Whether the PKI is complete and valid for another day.
pki_valid() {
  [ -s "$PKI/wrong-client.pem" ] && openssl x509 -checkend 86400 -noout -in "$PKI/server.pem" >/dev/null
}

make_pki() {
  rm -rf "$PKI" && mkdir -p "$PKI"
  local ca_subj="/O=patchbay tests/CN=patchbay test CA"
  cert ca - "$ca_subj" basicConstraints=critical,CA:TRUE
  # Same subject, other key: a verifier matching names only would accept it.
  cert wrong-ca - "$ca_subj" basicConstraints=critical,CA:TRUE
  cert server ca "/CN=localhost" \
    "subjectAltName=DNS:localhost;extendedKeyUsage=serverAuth;basicConstraints=CA:FALSE"
  cert client ca "/CN=patchbay-test-client" \
    "extendedKeyUsage=clientAuth;basicConstraints=CA:FALSE"
  cert wrong-client wrong-ca "/CN=patchbay-test-client" \
    "extendedKeyUsage=clientAuth;basicConstraints=CA:FALSE"
}

# Waits until $2's port accepts, while process $1 lives (no fixed sleep).
wait_port() { # name port seconds
  local i
  for i in $(seq 1 $(($3 * 10))); do
    alive "$1" || break
    # Still running once the port opens (a server that lost its port exits).
    port_open "$2" && alive "$1" && return 0
    sleep 0.1
  done
  echo "tls.sh: $1 did not listen on $2; log:" >&2
  tail -20 "$STATE/$1.log" >&2
  return 1
}

# Starts $1 (a command line after the name and port) in the background,
# unless it already runs; prints its port.
start_one() { # name port command...
  local name=$1 port=$2; shift 2
  if alive "$name" && port_open "$(cat "$STATE/$name.port")"; then
    cat "$STATE/$name.port"; return 0
  fi
  stop_one "$name"
  port=$(free_port "$port")
  # The command line names the port as @PORT@.
  local args=() a
  for a in "$@"; do args+=("${a//@PORT@/$port}"); done
  nohup "${args[@]}" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  echo "$port" >"$STATE/$name.port"
  wait_port "$name" "$port" 60 && echo "$port"
}

# SIGTERM, which each server (RabbitMQ's wrapper script too) takes as a
# clean shutdown; SIGKILL to it and its children after $2 seconds.
stop_one() { # name [seconds]
  if alive "$1"; then
    local pid i; pid=$(cat "$STATE/$1.pid")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 $((${2:-10} * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      pkill -9 -P "$pid" 2>/dev/null || true
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$STATE/$1.pid" "$STATE/$1.port"
}

nats_conf() {
  cat >"$STATE/nats.conf" <<CONF
listen: "127.0.0.1:$1"
tls { cert_file: "$PKI/server.pem", key_file: "$PKI/server.key", ca_file: "$PKI/ca.pem", timeout: 5 }
CONF
}

mosquitto_conf() {
  cat >"$STATE/mosquitto.conf" <<CONF
user root
persistence false
log_dest stderr
listener $1 127.0.0.1
allow_anonymous true
cafile $PKI/ca.pem
certfile $PKI/server.pem
keyfile $PKI/server.key
CONF
}

# A second RabbitMQ node, its own name, ports, cookie and directories; the
# system node (and its /etc/rabbitmq) is left alone.
rabbit_env() { # amqps-port
  export HOME=$STATE/rabbitmq RABBITMQ_NODENAME=$RABBIT_NODE
  export RABBITMQ_CONF_ENV_FILE=/dev/null RABBITMQ_CONFIG_FILE=$STATE/rabbitmq/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$STATE/rabbitmq/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$STATE/rabbitmq/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$STATE/rabbitmq/mnesia RABBITMQ_LOG_BASE=$STATE/rabbitmq/log
  export RABBITMQ_NODE_PORT=$(($1 + 1)) RABBITMQ_DIST_PORT=$(($1 + 2))
  export ERL_EPMD_ADDRESS=127.0.0.1
}

start_rabbitmq() {
  if alive rabbitmq && port_open "$(cat "$STATE/rabbitmq.port")"; then
    cat "$STATE/rabbitmq.port"; return 0
  fi
  stop_rabbitmq
  local port; port=$(free_port "${PATCHBAY_TLS_AMQP_PORT:-15681}")
  rm -rf "$STATE/rabbitmq" && mkdir -p "$STATE/rabbitmq"
  cat >"$STATE/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp = none
listeners.ssl.default = 127.0.0.1:$port
ssl_options.cacertfile = $PKI/ca.pem
ssl_options.certfile = $PKI/server.pem
ssl_options.keyfile = $PKI/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
  echo '[].' >"$STATE/rabbitmq/enabled_plugins"
  echo '[].' >"$STATE/rabbitmq/advanced.config"
  (rabbit_env "$port"
   nohup $RABBIT_BIN/rabbitmq-server >"$STATE/rabbitmq.log" 2>&1 </dev/null &
   echo $! >"$STATE/rabbitmq.pid")
  echo "$port" >"$STATE/rabbitmq.port"
  wait_port rabbitmq "$port" 120 && echo "$port"
}

stop_rabbitmq() { stop_one rabbitmq 60; }

case "${1:-}" in
  start)
    for tool in openssl redis-server nats-server mosquitto $RABBIT_BIN/rabbitmq-server; do
      if ! command -v "$tool" >/dev/null; then
        # Not fatal, so other services still run; the TLS tests fail under CI.
        echo "tls.sh: $tool missing (see .ci/apt-packages); no TLS listeners" >&2
        exit 0
      fi
    done
    mkdir -p "$STATE"
    # New certificates need new servers.
    pki_valid || { "$0" stop; mkdir -p "$STATE"; make_pki; }
    redis=$(start_one redis "${PATCHBAY_TLS_REDIS_PORT:-16380}" redis-server --port 0 \
      --bind 127.0.0.1 --tls-port @PORT@ --tls-cert-file "$PKI/server.pem" \
      --tls-key-file "$PKI/server.key" --tls-ca-cert-file "$PKI/ca.pem" \
      --tls-auth-clients no --save '' --appendonly no --dir "$STATE")
    nats_port=$(free_port "${PATCHBAY_TLS_NATS_PORT:-14223}")
    alive nats || nats_conf "$nats_port"
    nats=$(start_one nats "$nats_port" nats-server -c "$STATE/nats.conf")
    mqtt_port=$(free_port "${PATCHBAY_TLS_MQTT_PORT:-18884}")
    alive mosquitto || mosquitto_conf "$mqtt_port"
    mqtt=$(start_one mosquitto "$mqtt_port" mosquitto -c "$STATE/mosquitto.conf")
    amqp=$(start_rabbitmq)
    cat >"$ENV_FILE" <<ENV
PATCHBAY_TLS_CA=$PKI/ca.pem
PATCHBAY_TLS_WRONG_CA=$PKI/wrong-ca.pem
PATCHBAY_TLS_CLIENT_CERT=$PKI/client.pem
PATCHBAY_TLS_CLIENT_KEY=$PKI/client.key
PATCHBAY_TLS_WRONG_CLIENT_CERT=$PKI/wrong-client.pem
PATCHBAY_TLS_WRONG_CLIENT_KEY=$PKI/wrong-client.key
PATCHBAY_TLS_REDIS=localhost:$redis
PATCHBAY_TLS_NATS=localhost:$nats
PATCHBAY_TLS_MQTT=localhost:$mqtt
PATCHBAY_TLS_AMQP=localhost:$amqp
ENV
    cat "$ENV_FILE"
    ;;
  stop)
    # In parallel: each takes a moment to exit.
    stop_one redis & stop_one nats & stop_one mosquitto & stop_rabbitmq & wait
    rm -rf "$ENV_FILE" "$PKI"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
