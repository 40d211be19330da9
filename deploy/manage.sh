#!/usr/bin/env bash
# Run manage.py exactly as the services run: with the same environment file and the
# production settings.   deploy/manage.sh migrate  |  deploy/manage.sh check --deploy
#   FIBERCMS_ENV_FILE  the environment file (default /etc/fibercms/fibercms.env)
#   VENV               the virtualenv (default: .venv in the checkout)
set -euo pipefail
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${FIBERCMS_ENV_FILE:-/etc/fibercms/fibercms.env}
VENV=${VENV:-$APP_DIR/.venv}
if [ ! -r "$ENV_FILE" ]; then
  echo "manage.sh: cannot read $ENV_FILE (set FIBERCMS_ENV_FILE)" >&2
  exit 1
fi
# The file is shared with systemd's EnvironmentFile=: KEY=value lines, values with spaces in
# double quotes, no $ or backticks.
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-cms_project.settings.production}
cd "$APP_DIR"
exec "$VENV/bin/python" manage.py "$@"
