#!/usr/bin/env bash
# Writes layer 2 of the `full` test image into STAGE as a directory whose tar is the layer:
# whiteouts are plain empty files named .wh.NAME, an opaque directory holds .wh..wh..opq
# (the OCI image-spec / Docker convention). Called by scripts/build-test-images.
#   layer2.sh BASE_ROOTFS STAGE
set -euo pipefail
base=$1 stage=$2 here=$(cd "$(dirname "$0")" && pwd)
[ -d "$base/usr/share/doc" ] || { echo "layer2.sh: $base is not the Debian base" >&2; exit 1; }
mkdir -p "$stage"
whiteout() { # PATH (relative): delete it (and everything below it) from the lower layers
  mkdir -p "$stage/$(dirname "$1")"
  : > "$stage/$(dirname "$1")/.wh.$(basename "$1")"
}

# Deletions: every entry of /usr/share/doc (one whiteout each, like `rm -rf /usr/share/doc/*`),
# a single file, and whole directories with a single whiteout.
while IFS= read -r e; do whiteout "usr/share/doc/$e"; done < <(ls -A "$base/usr/share/doc" | sort)
whiteout etc/issue.net
whiteout usr/share/info
whiteout var/cache/debconf/templates.dat-old

# Opaque directory: /etc/apt/apt.conf.d replaced by a single new file.
mkdir -p "$stage/etc/apt/apt.conf.d"
: > "$stage/etc/apt/apt.conf.d/.wh..wh..opq"
install -m 0644 "$here/layer2/99moat-test" "$stage/etc/apt/apt.conf.d/99moat-test"

# Modified files: a user `app` (1000:1000).
for f in passwd group shadow gshadow; do cp -p "$base/etc/$f" "$stage/etc/$f"; done
echo 'app:x:1000:1000:moat test app,,,:/app:/bin/bash' >> "$stage/etc/passwd"
echo 'app:x:1000:' >> "$stage/etc/group"
echo "app:!:$((SOURCE_DATE_EPOCH / 86400)):0:99999:7:::" >> "$stage/etc/shadow"
echo 'app:!::' >> "$stage/etc/gshadow"

# Added files: regular, executable, symlinks (relative and absolute), a hardlink,
# setuid/setgid files, a sticky world-writable directory, a file owned by 1000, an empty
# directory, names with a space and non-ASCII, a path longer than 100 bytes.
mkdir -p "$stage/app/bin" "$stage/app/releases/1" "$stage/app/docs" "$stage/app/data" \
  "$stage/app/empty" "$stage/usr/local/bin"
install -m 0755 "$here/layer2/entrypoint.sh" "$stage/app/bin/entrypoint.sh"
install -m 0644 "$here/layer2/README.txt" "$stage/app/README.txt"
install -m 0644 "$here/layer2/config.json" "$stage/app/releases/1/config.json"
ln -s releases/1 "$stage/app/current"
ln -s /app/bin/entrypoint.sh "$stage/usr/local/bin/app"
ln "$stage/app/bin/entrypoint.sh" "$stage/app/releases/1/entrypoint.sh"
install -m 4755 "$base/usr/bin/true" "$stage/usr/local/bin/moat-suid"
install -m 2755 "$base/usr/bin/true" "$stage/usr/local/bin/moat-sgid"
install -d -m 1777 "$stage/app/tmp"
echo "owned by app" > "$stage/app/data/owned-by-app.txt"
chown -R 1000:1000 "$stage/app/data"
echo "a name with a space" > "$stage/app/docs/read me.txt"
echo "a non-ASCII name" > "$stage/app/docs/café.txt"
long="$stage/app/docs/a-directory-name-that-is-long-enough/to-make-the-whole-path-longer-than-one-hundred-bytes"
mkdir -p "$long"
echo "long path" > "$long/so-the-tar-needs-a-pax-or-gnu-long-name-header.txt"
