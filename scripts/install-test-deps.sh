#!/usr/bin/env bash
# Debian packages the test suite uses for real parts (sshd, PostgreSQL, ISO tools).
# Installed only when running as root and missing; otherwise the tests that need
# them say why they are skipped.
set -euo pipefail
PACKAGES=(openssh-server openssh-client postgresql genisoimage cpio libvirt-daemon-system libvirt-clients qemu-system-x86 busybox-static linux-image-amd64 iproute2 libvirt-dev pkg-config python3-dev libsasl2-modules)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not root (or no apt-get): missing ${missing[*]}; tests needing them will skip" >&2
    exit 0
fi
echo "installing test dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
