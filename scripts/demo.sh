#!/usr/bin/env bash
# make demo: oned with the embedded default (SQLite + dummy drivers) in ./demo,
# a host, a network and three VMs placed by the in-daemon scheduler, shown with
# the CLIs. No root, no hypervisor.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/demo
export PATH="$ROOT/.venv/bin:$PATH"   # make setup has run uv sync

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# --- a clean demo location -----------------------------------------------------
if [ -f "$DEMO/oned.pid" ] && kill -0 "$(cat "$DEMO/oned.pid")" 2>/dev/null; then
    step "stopping the previous demo oned (pid $(cat "$DEMO/oned.pid"))"
    kill "$(cat "$DEMO/oned.pid")"; sleep 1
fi
if [ -f "$DEMO/web.pid" ] && kill -0 "$(cat "$DEMO/web.pid")" 2>/dev/null; then
    kill "$(cat "$DEMO/web.pid")"   # the previous demo's web dashboard
fi
rm -rf "$DEMO"
mkdir -p "$DEMO/etc" "$DEMO/var"

PORT=$(python - <<'PY'
import socket
for port in [2633, 0]:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port)); print(s.getsockname()[1]); break
    except OSError:
        continue
PY
)

export ONE_LOCATION=$DEMO
export ONE_AUTH=$DEMO/one_auth
export ONE_XMLRPC=http://127.0.0.1:$PORT/RPC2
echo "oneadmin:$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$ONE_AUTH"
chmod 600 "$ONE_AUTH"

# the embedded default, with a port that is free, short intervals and strict mode
python - "$DEMO/etc/oned.conf" "$PORT" <<'PY'
import re, sys
from one_core.config import DEFAULT_ONED_CONF
text = DEFAULT_ONED_CONF.replace("PORT=2633", f"PORT={sys.argv[2]}")
text = re.sub(r"HOST_MONITORING_INTERVAL = \d+", "HOST_MONITORING_INTERVAL = 5", text)
text = re.sub(r"VM_POLLING_INTERVAL *= \d+", "VM_POLLING_INTERVAL      = 10", text)
text = text.replace("interval = 30", "interval = 2")
# strict mode (docs/security.md): authenticated reads only, hashed passwords, 127.0.0.1
text += '\nAPI_SECURITY = "strict"\n'
open(sys.argv[1], "w").write(text)
PY

step "starting oned on port $PORT (ONE_LOCATION=$DEMO)"
nohup oned -f > "$DEMO/oned.out" 2>&1 &
echo $! > "$DEMO/oned.pid"
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        break
    fi
    if ! kill -0 "$(cat "$DEMO/oned.pid")" 2>/dev/null; then
        echo "oned failed to start:"; cat "$DEMO/oned.out"; exit 1
    fi
    sleep 0.2
done

cat > "$DEMO/network.net" <<'NET'
NAME            = "demo-lan"
TYPE            = RANGED
BRIDGE          = br0
NETWORK_ADDRESS = 192.168.100.0
NETWORK_SIZE    = C
NET
cat > "$DEMO/vm.template" <<'VM'
NAME   = "demo-vm"
CPU    = 0.5
MEMORY = 256
DISK   = [ source = "/srv/images/debian.img", target = "hda" ]
DISK   = [ type = swap, size = 512, target = "hdb" ]
NIC    = [ NETWORK = "demo-lan" ]
CONTEXT = [ hostname = "$NAME", ip = "$NIC[IP, NETWORK=\"demo-lan\"]" ]
VM

run() { printf '$ %s\n' "$*"; "$@"; }

step "a host (dummy drivers: no hypervisor needed)"
run onehost create host01 im_dummy vmm_dummy tm_dummy
step "a virtual network"
run onevnet create "$DEMO/network.net"
step "three VMs"
for _ in 1 2 3; do run onevm create "$DEMO/vm.template"; done

step "waiting for the host to be monitored and the scheduler to place the VMs"
for i in $(seq 60); do
    running=$(onevm list | awk 'NR > 1 && $4 == "runn"' | wc -l)
    printf '\r  %d/3 VMs running (%ds)' "$running" "$i"
    [ "$running" -ge 3 ] && break
    sleep 1
done
echo

step "the cloud"
run onehost list
run onevnet list
run onevm list

step "the web dashboard (docs/web.md)"
WEB_PORT=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nohup one-web --oned "http://127.0.0.1:$PORT/RPC2/modern" --port "$WEB_PORT" > "$DEMO/web.out" 2>&1 &
echo $! > "$DEMO/web.pid"
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null && break
    sleep 0.2
done

cat <<MSG

Web dashboard: http://127.0.0.1:$WEB_PORT/  (user oneadmin, password $(cut -d: -f2- "$ONE_AUTH"))

oned is running (pid $(cat "$DEMO/oned.pid"), log: demo/var/oned.log). Try:

  source .venv/bin/activate
  export ONE_LOCATION=$DEMO ONE_AUTH=$ONE_AUTH ONE_XMLRPC=$ONE_XMLRPC
  onevm show 0; onevm history 0; onevm stop 1; onevm resume 1; onevm shutdown 2

Stop it with:  make demo-stop
MSG
