#!/usr/bin/env bash
# Installs the pinned schemathesis (PyPI) used by scripts/check-openapi,
# unless that exact version is already on PATH.
set -euo pipefail
VERSION=4.32.5
if command -v st >/dev/null 2>&1 && st --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
# pyenv puts new console scripts behind a shim that needs a rehash.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
