#!/bin/sh
# HOSTNAME: the node name (1.4: name.sh).
echo "HOSTNAME=$(uname -n)"
