#!/bin/sh
# KVM host figures from /proc (1.4: kvm.rb with virsh nodeinfo, top and free).
#   usage: kvm.sh [SAMPLE_SECONDS [INTERFACE...]]
# CPU in percent of one core (100 per core), memory in KB, network in bytes
# summed over INTERFACEs (default: every interface but lo).
set -e
sample=${1:-1}
[ $# -gt 0 ] && shift

echo "HYPERVISOR=kvm"

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo)
totalcpu=$((cpus * 100))
echo "TOTALCPU=$totalcpu"

mhz=$(awk -F': *' '/^cpu MHz/ { printf "%d\n", $2 + 0.5; exit }' /proc/cpuinfo)
if [ -z "$mhz" ] && [ -r /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq ]; then
    mhz=$(($(cat /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq) / 1000))
fi
echo "CPUSPEED=${mhz:-0}"

awk '
    /^MemTotal:/ { total = $2 }
    /^MemFree:/ { free = $2 }
    /^MemAvailable:/ { avail = $2; has_avail = 1 }
    /^Buffers:/ { buffers = $2 }
    /^Cached:/ { cached = $2 }
    END {
        if (!has_avail) avail = free + buffers + cached
        printf "TOTALMEMORY=%d\nUSEDMEMORY=%d\nFREEMEMORY=%d\n", total, total - avail, avail
    }
' /proc/meminfo

# idle share of the CPU time between two readings of /proc/stat
stat1=$(grep '^cpu ' /proc/stat)
sleep "$sample"
stat2=$(grep '^cpu ' /proc/stat)
printf '%s\n%s\n' "$stat1" "$stat2" | awk -v total="$totalcpu" '
    {
        sum = 0
        for (i = 2; i <= 9 && i <= NF; i++) sum += $i
        t[NR] = sum; idle[NR] = $5
    }
    END {
        dt = t[2] - t[1]; di = idle[2] - idle[1]
        if (dt <= 0) { dt = t[2]; di = idle[2] }
        free = (dt > 0) ? di * total / dt : total
        printf "FREECPU=%.1f\nUSEDCPU=%.1f\n", free, total - free
    }
'

awk -v names=" $* " '
    NR > 2 {
        sub(/:/, " ")
        if (names == "  " ? $1 != "lo" : index(names, " " $1 " ") > 0) { rx += $2; tx += $10 }
    }
    END { printf "NETRX=%.0f\nNETTX=%.0f\n", rx, tx }
' /proc/net/dev
