#!/usr/bin/env bash
# ./wharf images: builds Wharf's images from what this machine has, no base image pulled (deploy/images/README.md):
#   wharf/base      a jlinked Java runtime, the C libraries it loads, a static busybox, user wharf (10001)
#   wharf/wharf     every role, the first argument picks it (FROM wharf/base)
#   wharf/registry  Apicurio Registry for the compose stack (FROM wharf/base)
#   wharf/prometheus  Debian's prometheus binary for the compose stack, when this host has it (FROM wharf/base)
# Each is tagged with the project's version and `latest`, and labelled with the version and git commit.
# Expects JAVA_HOME (a JDK >= 21, as ./wharf picks) and the jars built (./wharf builds them when stale).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/env.sh"
[ -n "${JAVA_HOME:-}" ] || pick_jdk

VERSION=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml")
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$REVISION" != unknown ] && [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  REVISION="$REVISION-dirty"
fi
APICURIO_DIR="$ROOT/embedded/target/apicurio-registry"
OUT="$ROOT/deploy/target/images"
BUSYBOX="${WHARF_BUSYBOX:-/bin/busybox}"
for needed in "$ROOT/cli/target/wharf-cli.jar" "$ROOT/cli/target/lib" "$APICURIO_DIR"; do
  [ -e "$needed" ] || { echo "wharf images: $needed is missing: build first (./mvnw -B -q -DskipTests install)" >&2; exit 1; }
done

# What the roles and the registry load, found with jdeps on the CLI's jars, plus what they load by name only
# (JMX, JFR, DNS, SASL/Kerberos, zip file systems, extra charsets).
MODULES=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.rmi,\
java.scripting,java.security.jgss,java.security.sasl,java.sql,java.transaction.xa,java.xml,jdk.charsets,jdk.httpserver,jdk.jfr,\
jdk.management,jdk.management.jfr,jdk.naming.dns,jdk.net,jdk.security.auth,jdk.security.jgss,jdk.unsupported,jdk.zipfs
MAJOR=$(java_major "$JAVA_HOME/bin/java")

rm -rf "$OUT"
mkdir -p "$OUT/base/rootfs/bin" "$OUT/base/rootfs/etc" "$OUT/base/home" "$OUT/base/state/kafka" "$OUT/base/state/dispatcher" "$OUT/base/state/prometheus" \
  "$OUT/wharf/lib" "$OUT/wharf/app/bin" "$OUT/registry/apicurio"
echo "wharf images: linking a Java $MAJOR runtime (jlink)..." >&2
# Not compressed: a compressed runtime is ~30 % smaller on disk but every class load pays for it at start.
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --output "$OUT/base/java"

# The loader and C libraries the runtime's binaries need (glibc's NSS for files and DNS is part of libc.so.6), and
# those of the native libraries the jars unpack at run time (RocksDB needs libstdc++, for one).
natives="$OUT/natives"
mkdir -p "$natives"
for jar in "$ROOT"/cli/target/lib/*.jar; do
  entries=$("$JAVA_HOME/bin/jar" tf "$jar" | grep -E '\.so$' || true)
  [ -z "$entries" ] || (cd "$natives" && "$JAVA_HOME/bin/jar" xf "$jar" $entries)
done
libs=$( { ldd "$OUT/base/java/bin/java"; find "$OUT/base/java/lib" "$natives" -name '*.so' -exec ldd {} \; ; } 2>/dev/null \
  | grep -oE '/[^ ]+ \(0x' | cut -d' ' -f1 | grep -v "^$OUT" | sort -u)
rm -rf "$natives"
for lib in $libs; do
  mkdir -p "$OUT/base/rootfs$(dirname "$lib")"
  cp -L "$lib" "$OUT/base/rootfs$lib"
done
# /lib64 and /lib may be links to /usr/...: keep the paths the binaries were linked with.
cp "$BUSYBOX" "$OUT/base/rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$OUT/base/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nwharf:x:10001:10001:wharf:/home/wharf:/bin/sh\n' > "$OUT/base/rootfs/etc/passwd"
printf 'root:x:0:\nwharf:x:10001:\n' > "$OUT/base/rootfs/etc/group"
printf 'hosts: files dns\n' > "$OUT/base/rootfs/etc/nsswitch.conf"
mkdir -p -m 1777 "$OUT/base/rootfs/tmp"
cp "$ROOT/deploy/images/base/Dockerfile" "$OUT/base/"

cp "$ROOT"/cli/target/lib/*.jar "$OUT/wharf/lib/"
cp "$ROOT/cli/target/wharf-cli.jar" "$OUT/wharf/app/"
cp "$ROOT"/deploy/images/wharf/bin/* "$OUT/wharf/app/bin/"
{
  printf '%s\n' -XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData
  # RocksDB (the dispatcher's state) and Kafka's buffer unmapper use these; allowed so the roles' logs stay clean.
  [ "$MAJOR" -ge 24 ] && printf '%s\n' --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
} > "$OUT/wharf/app/jvm.options"
cp "$ROOT/deploy/images/wharf/Dockerfile" "$OUT/wharf/"

cp -r "$APICURIO_DIR"/. "$OUT/registry/apicurio/"
cp "$ROOT/deploy/images/registry/Dockerfile" "$OUT/registry/"
APICURIO_VERSION=$(basename "$(ls "$APICURIO_DIR"/apicurio-registry-app-*-runner.jar)" | sed 's/apicurio-registry-app-\(.*\)-runner.jar/\1/')

build() { # image context [build args...]
  local image="$1" context="$2"; shift 2
  local begin=$SECONDS
  # The classic builder: COPY-only Dockerfiles need nothing more, and no network (there is no bridge here).
  local log
  if ! log=$(DOCKER_BUILDKIT=0 docker build -q --network none --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" "$@" \
    -t "$image:$VERSION" -t "$image:latest" "$context" 2>&1); then
    echo "wharf images: building $image failed:" >&2
    echo "$log" | grep -v -e DEPRECATED -e 'BuildKit is currently disabled' -e 'environment-variable' >&2
    return 1
  fi
  printf 'wharf images: %-15s %s  %4d MB  (%d s)\n' "$image" "$VERSION" \
    $(( $(docker image inspect -f '{{.Size}}' "$image:$VERSION") / 1000000 )) $((SECONDS - begin)) >&2
}
build wharf/base "$OUT/base"
build wharf/wharf "$OUT/wharf" --build-arg BASE="wharf/base:$VERSION"
build wharf/registry "$OUT/registry" --build-arg BASE="wharf/base:$VERSION" --build-arg APICURIO_VERSION="$APICURIO_VERSION"
if [ -x /usr/bin/prometheus ]; then
  mkdir -p "$OUT/prometheus"
  cp /usr/bin/prometheus "$ROOT/deploy/images/prometheus/Dockerfile" "$OUT/prometheus/"
  build wharf/prometheus "$OUT/prometheus" --build-arg BASE="wharf/base:$VERSION" \
    --build-arg PROMETHEUS_VERSION="$(/usr/bin/prometheus --version 2>&1 | sed -n 's/^prometheus, version \([^ ]*\).*/\1/p')"
else
  echo "wharf images: no /usr/bin/prometheus (Debian: apt-get install prometheus): wharf/prometheus not built" >&2
fi
docker image prune -f --filter label=org.opencontainers.image.title=wharf >/dev/null 2>&1 || true
echo "wharf images: built $VERSION (commit $REVISION)" >&2
