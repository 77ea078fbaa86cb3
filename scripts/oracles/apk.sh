#!/bin/sh
# apk-tools' own comparison: `apk version -t A B` inside an Alpine root filesystem
# (scripts/build-test-images makes target/test-images/alpine/rootfs). Input
# "a<TAB>b" lines; output -1/0/1 (or E) lines. Needs root for chroot.
root=${1:?usage: apk.sh ALPINE_ROOTFS}
tr '\t' ' ' | chroot "$root" /bin/sh -c '
while read -r a b; do
  r=$(apk version -t "$a" "$b" 2>/dev/null)
  case "$r" in "<") echo -1 ;; ">") echo 1 ;; "=") echo 0 ;; *) echo E ;; esac
done'
