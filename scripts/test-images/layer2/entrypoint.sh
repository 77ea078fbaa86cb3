#!/bin/sh
# Entrypoint of the moat `full` test image (layer 2).
set -e
echo "moat test app: $*"
exec "$@"
