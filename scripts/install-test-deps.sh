#!/usr/bin/env bash
# Debian packages the test suite uses for real parts (sshd, PostgreSQL, ISO tools,
# chromium for the web dashboard's browser tests).
# Installed only when running as root and missing; otherwise the tests that need
# them say why they are skipped.
#
# Two `make test` runs may start together (two clones on one machine): the install
# is serialised with flock on a machine-wide lock, the list of missing packages is
# read again once the lock is held, and apt waits for dpkg's own lock instead of failing.
set -euo pipefail
PACKAGES=(openssh-server openssh-client postgresql genisoimage cpio libvirt-daemon-system libvirt-clients qemu-system-x86 busybox-static linux-image-amd64 iproute2 libvirt-dev pkg-config python3-dev libsasl2-modules chromium)
LOCK=/run/lock/one-install-test-deps.lock
APT_WAIT=(-o DPkg::Lock::Timeout=900)

missing_packages() {
    missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
}

missing_packages
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not root (or no apt-get): missing ${missing[*]}; tests needing them will skip" >&2
    exit 0
fi
mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
if ! flock -w 1800 9; then
    echo "error: another install of the test dependencies holds $LOCK for 30 minutes" >&2
    exit 1
fi
missing_packages  # another run may have installed them while we waited
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing test dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get "${APT_WAIT[@]}" update -qq >/dev/null
apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
