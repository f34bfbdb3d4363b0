#!/bin/sh
# Install the Debian packages runnel builds and tests with, when missing.
set -e
PKGS="build-essential clang libclang-rt-14-dev libcsv-dev libjansson-dev librdkafka-dev bats bats-assert bats-support mandoc netcat-openbsd mawk kcat jq python3 time iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: not root; please install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
