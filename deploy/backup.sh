#!/usr/bin/env bash
# Back up Fiber CMS: the database as a custom-format pg_dump (restore with pg_restore) and the
# media files (stored invoice PDFs, the company logo) as a tar archive, both stamped with the
# UTC time, into BACKUP_DIR; copies older than KEEP_DAYS are removed.
#
# Reads DATABASE_URL and MEDIA_ROOT from the environment (the systemd unit loads
# /etc/fibercms/fibercms.env). Run by deploy/systemd/fibercms-backup.timer every night, or by
# hand:   set -a; . /etc/fibercms/fibercms.env; set +a; deploy/backup.sh
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must be set (postgres://user:password@host:5432/name)}"
: "${MEDIA_ROOT:?MEDIA_ROOT must be set (the folder of the stored PDFs)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/fibercms}
KEEP_DAYS=${KEEP_DAYS:-14}
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL is not PostgreSQL; back up that database your own way" >&2; exit 1 ;;
esac

stamp=$(date -u +%Y%m%dT%H%M%SZ)
umask 077
mkdir -p "$BACKUP_DIR"

# pg_dump takes a consistent snapshot while the site keeps running. Written under a temporary
# name first, so a failed run never leaves a truncated file that looks like a backup.
pg_dump --format=custom --no-owner --no-privileges \
  --file="$BACKUP_DIR/db-$stamp.dump.partial" "$DATABASE_URL"
mv "$BACKUP_DIR/db-$stamp.dump.partial" "$BACKUP_DIR/db-$stamp.dump"

# Media after the database: a file is written before the row naming it is committed, so every
# file the dump refers to is in the archive taken afterwards (newer files are merely extra).
mkdir -p "$MEDIA_ROOT"
tar --create --gzip --file="$BACKUP_DIR/media-$stamp.tar.gz.partial" --directory="$MEDIA_ROOT" .
mv "$BACKUP_DIR/media-$stamp.tar.gz.partial" "$BACKUP_DIR/media-$stamp.tar.gz"

find "$BACKUP_DIR" -maxdepth 1 \( -name 'db-*.dump' -o -name 'media-*.tar.gz' \) \
  -mtime "+$KEEP_DAYS" -delete

echo "backup.sh: $BACKUP_DIR/db-$stamp.dump ($(du -h "$BACKUP_DIR/db-$stamp.dump" | cut -f1))," \
  "$BACKUP_DIR/media-$stamp.tar.gz ($(du -h "$BACKUP_DIR/media-$stamp.tar.gz" | cut -f1))"
