#!/usr/bin/env bash
# Regenerates the initial migration from the current models (run it after
# merging model changes, before the first release; never once real databases
# depend on later revisions). Usage: make migration-reset
set -euo pipefail
cd "$(dirname "$0")/.."
FLASK="${FLASK:-.venv/bin/flask}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/*.py
# Autogenerate compares the models with an empty database. The revision id stays
# 0001 so databases stamped with it (blog/ops/schema.py) remain valid.
BLOG_DATABASE_URL="sqlite:///$tmp/empty.sqlite3" BLOG_SECRET_KEY="migration-reset-only-not-a-real-key" BLOG_SECRET_KEY_FILE=/nonexistent \
  "$FLASK" --app blog db migrate --rev-id 0001 -m "Initial schema"
ls migrations/versions/
