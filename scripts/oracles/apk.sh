#!/bin/sh
# apk-tools' own comparison: `apk version -t A B` inside an Alpine root filesystem
# (scripts/build-test-images makes target/test-images/alpine/rootfs). Input
# "a<TAB>b" lines; output -1/0/1 (or E) lines, in input order. Needs root for
# chroot. One apk process per pair, so the input is split over two shells.
root=${1:?usage: apk.sh ALPINE_ROOTFS}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
tr '\t' ' ' > "$d/in"
n=$(wc -l < "$d/in")
half=$(( (n + 1) / 2 ))
head -n "$half" "$d/in" > "$d/a"
tail -n +"$((half + 1))" "$d/in" > "$d/b"
run() {
  chroot "$root" /bin/sh -c '
while read -r a b; do
  r=$(apk version -t "$a" "$b" 2>/dev/null)
  case "$r" in "<") echo -1 ;; ">") echo 1 ;; "=") echo 0 ;; *) echo E ;; esac
done' < "$1" > "$1.out"
}
run "$d/a" &
run "$d/b"
wait
cat "$d/a.out" "$d/b.out"
