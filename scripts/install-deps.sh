#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's packages.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail
PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev python3
  libpcap-dev liblmdb-dev lmdb-utils libssl-dev libspandsp-dev libbcg729-dev libopus-dev
  libcmocka-dev libcap-ng-dev
  libdpdk-dev dpdk
  tshark sox tcpreplay tcpdump bc iproute2 procps passwd util-linux openssl time
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
