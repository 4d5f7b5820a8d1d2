#!/bin/sh
# ARCH: the machine hardware name (1.4: architecture.sh).
echo "ARCH=$(uname -m)"
