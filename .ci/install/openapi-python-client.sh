#!/usr/bin/env bash
# Installs the pinned openapi-python-client (PyPI) used by
# scripts/check-openapi-client, in its own virtualenv so its dependencies
# (pydantic, httpx, ruff…) never clash with schemathesis'. The generated
# client is imported with this venv's python, which has httpx and attrs.
set -euo pipefail
VERSION=0.29.1
VENV="${OPENAPI_CLIENT_VENV:-/opt/patchbay-tools/venv/openapi-python-client}"
if [ -x "$VENV/bin/openapi-python-client" ] &&
  "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "openapi-python-client==$VERSION"
