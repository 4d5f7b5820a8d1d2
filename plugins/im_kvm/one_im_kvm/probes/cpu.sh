#!/bin/sh
# MODELNAME: the first CPU model of /proc/cpuinfo, in double quotes (1.4: cpu.sh).
# Falls back to the fields other architectures use for it.
model=$(awk -F': *' '
    /^(model name|Processor|cpu model|Hardware)[ \t]*:/ { print $2; exit }
' /proc/cpuinfo | tr -d '"')
[ -n "$model" ] && echo "MODELNAME=\"$model\""
exit 0
