#!/usr/bin/env bash
# Installs tansu, the Kafka-protocol broker the Kafka connector's tests run
# (scripts/services/kafka.sh), outside the repository; reuses it when present.
# dynostore gives the memory:// storage engine; postgres a shared one.
set -euo pipefail
if [ -x /opt/patchbay-tools/bin/tansu ]; then
  exit 0
fi
cargo install tansu --version 0.6.0 --features dynostore,postgres --locked --root /opt/patchbay-tools
