# Shared by ./wharf and .ci/run: pick a JDK >= 21 and make sure a Docker engine answers.
# Sourced, not executed.

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }

pick_jdk() {
  local candidate
  for candidate in "${JAVA_HOME:-}" $(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")" 2>/dev/null) /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    if [ "$(java_major "$candidate/bin/java")" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "wharf: no JDK 21 or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm/*). Install one, e.g. apt-get install openjdk-21-jdk-headless or Temurin 21+, and set JAVA_HOME." >&2
  return 1
}

# Starts dockerd the way this kind of machine allows (no bridge, no iptables) when none answers.
ensure_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "wharf: installing the Docker engine (docker.io)..." >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >/dev/null 2>&1 || {
        echo "wharf: could not install docker.io with apt-get" >&2; return 1; }
    else
      echo "wharf: no Docker engine answers and none is installed. Install Docker (https://docs.docker.com/engine/install/) and start it, then retry." >&2
      return 1
    fi
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "wharf: the Docker engine is installed but not running, and starting it needs root: start it (e.g. sudo systemctl start docker) and retry." >&2
    return 1
  fi
  echo "wharf: starting dockerd (--bridge=none --iptables=false --ip-masq=false)..." >&2
  mkdir -p /var/log
  nohup dockerd --bridge=none --iptables=false --ip-masq=false >/var/log/wharf-dockerd.log 2>&1 &
  WHARF_DOCKERD_PID=$!
  export WHARF_DOCKERD_PID
  local i
  for i in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "wharf: dockerd did not answer within 60 s; see /var/log/wharf-dockerd.log" >&2
  return 1
}

# Installs Debian packages when this script may (root, apt-get), saying why; returns 1 when it cannot or fails.
apt_install() { # why package...
  local why="$1"; shift
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  echo "wharf: installing $* ($why)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@") >/dev/null 2>&1
}

# Local job images are built from a static busybox; Debian ships one in busybox-static.
ensure_busybox() {
  local bb="${WHARF_BUSYBOX:-/bin/busybox}"
  if [ -x "$bb" ] && ! head -c 4096 "$bb" | grep -aq "ld-linux"; then return 0; fi
  apt_install "job images are built from it" busybox-static && return 0
  echo "wharf: a static busybox is needed at $bb to build local job images: install busybox-static or set WHARF_BUSYBOX." >&2
  return 1
}

# The image tests run a real registry (Debian's docker-registry) with htpasswd auth (apache2-utils).
ensure_registry_tools() {
  if [ -x /usr/bin/docker-registry ] && command -v htpasswd >/dev/null 2>&1; then return 0; fi
  apt_install "used by the image tests" docker-registry apache2-utils && return 0
  echo "wharf: the image tests need /usr/bin/docker-registry and htpasswd: install docker-registry and apache2-utils." >&2
  return 1
}

# What the operations and sources tests run against: Prometheus and promtool, rsyslogd, headless Chromium and its
# driver, PostgreSQL (a database trigger's source).
ensure_ops_tools() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && command -v rsyslogd >/dev/null 2>&1 \
      && [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then return 0; fi
  apt_install "used by the operations and sources tests" prometheus rsyslog chromium chromium-driver postgresql && return 0
  echo "wharf: the operations and sources tests need Prometheus, promtool, rsyslogd, /usr/bin/chromium, /usr/bin/chromedriver and PostgreSQL:" \
    "install Debian's prometheus, rsyslog, chromium, chromium-driver and postgresql." >&2
  return 1
}

# The client tests drive Wharf with clients that are not Wharf's own: kcat and Python's confluent-kafka (both on
# librdkafka, whose default partitioner is not Java's), with Debian's Avro for Python.
ensure_client_tools() {
  if command -v kcat >/dev/null 2>&1 && /usr/bin/python3 -c 'import confluent_kafka, avro' >/dev/null 2>&1; then return 0; fi
  apt_install "used by the client tests" kcat python3-confluent-kafka python3-avro && return 0
  echo "wharf: the client tests need kcat and Python 3 with confluent-kafka and avro at /usr/bin/python3: install kcat, python3-confluent-kafka and python3-avro." >&2
  return 1
}

# The compose stack runs on Debian's docker-compose (1.29).
ensure_compose() {
  if command -v docker-compose >/dev/null 2>&1; then return 0; fi
  apt_install "the compose stack runs on it" docker-compose && return 0
  echo "wharf: the compose stack needs docker-compose: install it (Debian: apt-get install docker-compose)." >&2
  return 1
}

# The deployment tests: docker-compose, and kubectl (kubernetes-client) to render the Kubernetes manifests with its kustomize.
ensure_deploy_tools() {
  ensure_compose || return 1
  if command -v kubectl >/dev/null 2>&1; then return 0; fi
  apt_install "kubectl renders the Kubernetes manifests in the tests" kubernetes-client && return 0
  echo "wharf: the deployment tests need kubectl: install it (Debian: apt-get install kubernetes-client)." >&2
  return 1
}

# The benchmarks' load generator and baselines: Debian's hey, curl (the web-server recipe by hand), docker-compose
# (the stack bench).
ensure_bench_tools() {
  ensure_compose || return 1
  if command -v hey >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then return 0; fi
  apt_install "the benchmarks' load generator and baselines" hey curl && return 0
  echo "wharf: the benchmarks need hey and curl: install them (Debian: apt-get install hey curl)." >&2
  return 1
}
