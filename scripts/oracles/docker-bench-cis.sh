#!/usr/bin/env bash
# docker-bench-security v1.6.0's verdicts on the automated items of CIS Docker Benchmark
# v1.6.0, for the parity test of `moat audit` (crates/moat/tests/audit.rs).
#
# docker-bench-security is a shell project that is not packaged in Debian, PyPI or npm, so
# it cannot be installed here. This script restates, item by item, the test each of its
# `check_N` functions makes and the verdict it prints (PASS, WARN, INFO), written for
# this test from docker-bench's documented behaviour (no code of it is copied). Like
# docker-bench it uses only the docker CLI, stat, mountpoint, getent and the daemon's
# command line and daemon.json; it never asks moat anything. Its quirks are kept where
# they decide a verdict (5.2 warns for any container without an AppArmor profile, 5.3
# for any container without security options, 5.15 for any retry count but 5, 5.7 looks
# for sshd through `docker exec`), so that the test shows every difference, and the
# test names each intended one with its reason.
#
# Three deliberate departures, the first two because the daemon under test is a private one:
# - docker-bench reads the one dockerd it finds with `ps`; here DOCKERD_PID names it.
# - docker-bench's fixed per-daemon paths (/var/run/docker.sock, /etc/docker/daemon.json,
#   /var/lib/docker, /run/containerd and its socket) are those of the daemon under test
#   (SOCK, CONFIG_FILE, DATA_ROOT, CONTAINERD_DIR, CONTAINERD_SOCK); the host-wide ones
#   (unit files, /etc/default/docker, binaries, /etc/docker) stay as they are.
# - Section 4 and 5 look at every container (`docker ps -aq`), as CIS's audit commands
#   (`docker ps --quiet --all`) and moat do; docker-bench looks at running ones only.
#
# Usage: DOCKER_HOST=unix:///path DOCKERD_PID=N SOCK=/path CONFIG_FILE=/path \
#          CONTAINERD_SOCK=/path [DATA_ROOT=/path] [CONTAINERD_DIR=/path] docker-bench-cis.sh
# Output: one line per item, `NUMBER<TAB>VERDICT<TAB>detail`, VERDICT one of PASS, WARN,
# INFO (the item is not met and docker-bench only informs) and NA (docker-bench prints
# INFO because there is nothing to check: file not found, not listening on TCP).
set -u
: "${DOCKERD_PID:?}" "${SOCK:?}" "${CONFIG_FILE:?}" "${CONTAINERD_SOCK:?}"
DATA_ROOT=${DATA_ROOT:-}
CONTAINERD_DIR=${CONTAINERD_DIR:-/run/containerd}

say() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}"; }

# --- the daemon's command line and daemon.json ------------------------------------
mapfile -d '' ARGS < "/proc/$DOCKERD_PID/cmdline"

# Every value given to a flag (`--flag=v` or `--flag v`); a bare boolean flag is `true`.
cli() {
  local flag=$1 i a n=${#ARGS[@]}
  for ((i = 1; i < n; i++)); do
    a=${ARGS[$i]}
    case $a in
      "$flag="*) printf '%s\n' "${a#*=}" ;;
      "$flag")
        if ((i + 1 < n)) && [[ ${ARGS[$((i + 1))]} != -* ]]; then
          printf '%s\n' "${ARGS[$((i + 1))]}"
        else
          echo true
        fi
        ;;
    esac
  done
}

# A daemon.json key as text (arrays and objects as JSON), nothing when absent.
cfg() {
  [ -r "$CONFIG_FILE" ] || return 0
  jq -r --arg k "$1" 'if has($k) then (.[$k] | if type == "string" then . else tojson end) else empty end' \
    "$CONFIG_FILE" 2>/dev/null
}

info_fmt() { docker info --format "$1" 2>/dev/null; }

# --- section 1: host -------------------------------------------------------------
root_dir=$(info_fmt '{{ .DockerRootDir }}')
if info_fmt '{{ .SecurityOptions }}' | grep -q userns; then
  root_dir=$(dirname "$root_dir")
fi
if mountpoint -q -- "$root_dir"; then say 1.1.1 PASS; else say 1.1.1 WARN "$root_dir"; fi

members=$(getent group docker | cut -d: -f4)
if [ -n "$members" ]; then say 1.1.2 INFO "$members"; else say 1.1.2 PASS; fi

unit_file() {
  local f
  for f in "/etc/systemd/system/$1" "/lib/systemd/system/$1" "/usr/lib/systemd/system/$1"; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
}

audited() {
  if command -v auditctl >/dev/null 2>&1 && auditctl -l 2>/dev/null | grep -q -- "$1"; then
    return 0
  fi
  grep -s -- "$1" /etc/audit/audit.rules | grep -q '^[^#;]'
}

audit_item() { # NUMBER PATH [must-exist]
  if [ "${3:-}" = exist ] && [ ! -e "$2" ]; then
    say "$1" NA "$2 not found"
  elif audited "$2"; then
    say "$1" PASS "$2"
  else
    say "$1" WARN "no audit rule for $2"
  fi
}
audit_item 1.1.3 /usr/bin/dockerd
audit_item 1.1.4 "$CONTAINERD_DIR" exist
audit_item 1.1.5 "${DATA_ROOT:-/var/lib/docker}" exist
audit_item 1.1.6 /etc/docker exist
svc=$(unit_file docker.service)
audit_item 1.1.7 "${svc:-/usr/lib/systemd/system/docker.service}" exist
audit_item 1.1.8 "$CONTAINERD_SOCK" exist
sock_unit=$(unit_file docker.socket)
audit_item 1.1.9 "${sock_unit:-/usr/lib/systemd/system/docker.socket}" exist
audit_item 1.1.10 /etc/default/docker exist
audit_item 1.1.11 "$CONFIG_FILE" exist
audit_item 1.1.12 /etc/containerd/config.toml exist
audit_item 1.1.13 /etc/sysconfig/docker exist
audit_item 1.1.14 /usr/bin/containerd exist
audit_item 1.1.15 /usr/bin/containerd-shim exist
audit_item 1.1.16 /usr/bin/containerd-shim-runc-v1 exist
audit_item 1.1.17 /usr/bin/containerd-shim-runc-v2 exist
audit_item 1.1.18 /usr/bin/runc exist

# --- section 2: daemon -----------------------------------------------------------
if cli --icc | grep -q false || cfg icc | grep -q false; then say 2.2 PASS; else say 2.2 WARN; fi

level=$(cfg log-level)
[ -z "$level" ] && level=$(cli --log-level; cli -l)
if [ -z "$level" ] || [ "$level" = info ]; then say 2.3 PASS; else say 2.3 WARN "$level"; fi

if cli --iptables | grep -q false || cfg iptables | grep -q false; then
  say 2.4 WARN
else
  say 2.4 PASS
fi

reg=$(cfg insecure-registries)
if [ -n "$(cli --insecure-registry)" ] || { [ -n "$reg" ] && [ "$reg" != '[]' ]; }; then
  say 2.5 WARN "$reg"
else
  say 2.5 PASS
fi

if [ "$(info_fmt '{{ .Driver }}')" = aufs ]; then say 2.6 WARN; else say 2.6 PASS; fi

tcp_hosts=$( { cli -H; cli --host; cfg hosts | jq -r '.[]?' 2>/dev/null; } | grep -vE '^(unix|fd)://')
if [ -n "$tcp_hosts" ]; then
  if cli --tlsverify | grep -q true || cfg tlsverify | grep -q true; then
    say 2.7 PASS
  else
    say 2.7 WARN "$tcp_hosts"
  fi
else
  say 2.7 NA "not listening on TCP"
fi

userns=$(cfg userns-remap)
if [ -n "$userns" ] || [ -n "$(cli --userns-remap)" ]; then say 2.9 PASS; else say 2.9 WARN; fi

if [ -n "$(cli --cgroup-parent)$(cfg cgroup-parent)" ]; then say 2.10 WARN; else say 2.10 PASS; fi

if { cli --storage-opt; cfg storage-opts; } | grep -q dm.basesize; then
  say 2.11 WARN
else
  say 2.11 PASS
fi

authz=$(cfg authorization-plugins)
if { [ -n "$authz" ] && [ "$authz" != '[]' ]; } || [ -n "$(cli --authorization-plugin)" ]; then
  say 2.12 PASS
else
  say 2.12 WARN
fi

if [ "$(info_fmt '{{ .LoggingDriver }}')" = json-file ]; then say 2.13 WARN; else say 2.13 PASS; fi

if cli --no-new-privileges | grep -q true || cfg no-new-privileges | grep -q true; then
  say 2.14 PASS
else
  say 2.14 WARN
fi

swarm=$(info_fmt '{{ .Swarm.LocalNodeState }}')
if [ "$(info_fmt '{{ .LiveRestoreEnabled }}')" = true ] || [ "$swarm" = active ]; then
  say 2.15 PASS
else
  say 2.15 WARN
fi

if cfg userland-proxy | grep -q false || cli --userland-proxy | grep -q false; then
  say 2.16 PASS
else
  say 2.16 WARN
fi

if [ "$(docker version --format '{{ .Server.Experimental }}' 2>/dev/null)" = false ]; then
  say 2.18 PASS
else
  say 2.18 WARN
fi

# --- section 3: files --------------------------------------------------------------
owner_item() { # NUMBER FILE OWNER
  if [ ! -e "$2" ]; then say "$1" NA "$2 not found"; return; fi
  if [ "$(stat -c %U:%G "$2")" = "$3" ]; then say "$1" PASS; else say "$1" WARN "$2 $(stat -c %U:%G "$2")"; fi
}
mode_item() { # NUMBER FILE MAX (octal digits compared as a number, as docker-bench does)
  if [ ! -e "$2" ]; then say "$1" NA "$2 not found"; return; fi
  if [ "$(stat -c %a "$2")" -le "$3" ]; then say "$1" PASS; else say "$1" WARN "$2 $(stat -c %a "$2")"; fi
}
owner_item 3.1 "${svc:-/nonexistent/docker.service}" root:root
mode_item 3.2 "${svc:-/nonexistent/docker.service}" 644
owner_item 3.3 "${sock_unit:-/nonexistent/docker.socket}" root:root
mode_item 3.4 "${sock_unit:-/nonexistent/docker.socket}" 644
owner_item 3.5 /etc/docker root:root
mode_item 3.6 /etc/docker 755
certs=/etc/docker/certs.d
if [ -d "$certs" ]; then
  bad_owner=$(find "$certs" -type f -name '*.crt' ! -uid 0)
  if [ -z "$bad_owner" ]; then say 3.7 PASS; else say 3.7 WARN "$bad_owner"; fi
  bad_mode=$(find "$certs" -type f -name '*.crt' -exec stat -c '%a %n' {} + | awk '$1 > 444 {print $2}')
  if [ -z "$bad_mode" ]; then say 3.8 PASS; else say 3.8 WARN "$bad_mode"; fi
else
  say 3.7 NA "$certs not found"
  say 3.8 NA "$certs not found"
fi
tls_file() { local v; v=$(cli "--$1" | head -n1); [ -z "$v" ] && v=$(cfg "$1"); echo "${v:-/nonexistent/$1}"; }
owner_item 3.9 "$(tls_file tlscacert)" root:root
mode_item 3.10 "$(tls_file tlscacert)" 444
owner_item 3.11 "$(tls_file tlscert)" root:root
mode_item 3.12 "$(tls_file tlscert)" 444
owner_item 3.13 "$(tls_file tlskey)" root:root
mode_item 3.14 "$(tls_file tlskey)" 400
owner_item 3.15 "$SOCK" root:docker
mode_item 3.16 "$SOCK" 660
owner_item 3.17 "$CONFIG_FILE" root:root
mode_item 3.18 "$CONFIG_FILE" 644
owner_item 3.19 /etc/default/docker root:root
mode_item 3.20 /etc/default/docker 644
mode_item 3.21 /etc/sysconfig/docker 644
owner_item 3.22 /etc/sysconfig/docker root:root
owner_item 3.23 "$CONTAINERD_SOCK" root:root
mode_item 3.24 "$CONTAINERD_SOCK" 660

# --- sections 4 and 5: images and containers ----------------------------------------
mapfile -t CONTAINERS < <(docker ps -aq)
mapfile -t RUNNING < <(docker ps -q)

# Every container for which `docker inspect --format TEMPLATE` prints a line matching
# the extended regex; prints their names.
containers_where() {
  local c
  for c in "${CONTAINERS[@]}"; do
    if docker inspect --format "$1" "$c" 2>/dev/null | grep -qE -- "$2"; then
      docker inspect --format '{{ .Name }}' "$c"
    fi
  done
}
verdict() { # NUMBER WARN|INFO LIST
  if [ -z "$3" ]; then say "$1" PASS; else say "$1" "$2" "$(echo $3)"; fi
}

verdict 4.1 WARN "$(containers_where 'User={{ .Config.User }}' '^User=(|\[\]|<no value>)$')"
if [ "${DOCKER_CONTENT_TRUST:-}" = 1 ]; then say 4.5 PASS; else say 4.5 WARN; fi
no_health=""
for img in $(docker images -q | sort -u); do
  if docker inspect --format '{{ .Config.Healthcheck }}' "$img" | grep -q '<nil>'; then
    no_health="$no_health $img"
  fi
done
verdict 4.6 WARN "$no_health"

if [ "$swarm" = active ]; then say 5.1 WARN; else say 5.1 PASS; fi
verdict 5.2 WARN "$(containers_where 'AppArmorProfile={{ .AppArmorProfile }}' '^AppArmorProfile=(|\[\]|<no value>|unconfined)$')"
verdict 5.3 WARN "$(containers_where 'SecurityOpt={{ .HostConfig.SecurityOpt }}' '^SecurityOpt=(|\[\]|<no value>)$')"

# 5.4: added capabilities other than Docker's default ones.
defaults='AUDIT_WRITE|CHOWN|DAC_OVERRIDE|FOWNER|FSETID|KILL|MKNOD|NET_BIND_SERVICE|NET_RAW|SETFCAP|SETGID|SETPCAP|SETUID|SYS_CHROOT'
caps=""
for c in "${CONTAINERS[@]}"; do
  added=$(docker inspect --format '{{ range .HostConfig.CapAdd }}{{ . }} {{ end }}' "$c" |
    tr '[:lower:]' '[:upper:]' | tr ' ' '\n' | sed 's/^CAP_//' | grep -vxE "$defaults|" || true)
  [ -n "$added" ] && caps="$caps $(docker inspect --format '{{ .Name }}' "$c")"
done
verdict 5.4 WARN "$caps"
verdict 5.5 WARN "$(containers_where '{{ .HostConfig.Privileged }}' '^true$')"
verdict 5.6 WARN "$(containers_where '{{ range .Mounts }}{{ .Source }} {{ .RW }}{{ "\n" }}{{ end }}' '^(/|/boot|/dev|/etc|/lib|/proc|/sys|/usr) true$')"

sshd=""
for c in "${RUNNING[@]}"; do
  n=$(docker exec "$c" sh -c 'cat /proc/[0-9]*/comm' 2>/dev/null | grep -c sshd)
  [ "${n:-0}" -ge 1 ] && sshd="$sshd $(docker inspect --format '{{ .Name }}' "$c")"
done
verdict 5.7 WARN "$sshd"

# Published ports: `docker port` for a running container, the configured bindings of
# another (`HOSTIP:HOSTPORT` one a line).
bindings() {
  if [ "$(docker inspect --format '{{ .State.Running }}' "$1")" = true ]; then
    docker port "$1" | sed 's/.* -> //'
  else
    docker inspect --format '{{ range $p, $b := .HostConfig.PortBindings }}{{ range $b }}{{ .HostIp }}:{{ .HostPort }}{{ "\n" }}{{ end }}{{ end }}' "$1"
  fi
}
low=""
wild=""
for c in "${CONTAINERS[@]}"; do
  name=$(docker inspect --format '{{ .Name }}' "$c")
  while IFS= read -r b; do
    [ -z "$b" ] && continue
    port=${b##*:}
    ip=${b%:*}
    [ -n "$port" ] && [ "$port" -lt 1024 ] && low="$low $name"
    case $ip in "" | 0.0.0.0 | "[::]" | ::) wild="$wild $name" ;; esac
  done < <(bindings "$c")
done
verdict 5.8 WARN "$(echo "$low" | tr ' ' '\n' | sort -u)"
verdict 5.10 WARN "$(containers_where 'NetworkMode={{ .HostConfig.NetworkMode }}' '^NetworkMode=host$')"
verdict 5.11 WARN "$(containers_where '{{ .HostConfig.Memory }}' '^0$')"
verdict 5.12 WARN "$(containers_where '{{ .HostConfig.CpuShares }}' '^0$')"
verdict 5.13 WARN "$(containers_where '{{ .HostConfig.ReadonlyRootfs }}' '^false$')"
verdict 5.14 WARN "$(echo "$wild" | tr ' ' '\n' | sort -u)"
verdict 5.15 WARN "$(containers_where 'MaximumRetryCount={{ .HostConfig.RestartPolicy.MaximumRetryCount }}' '^MaximumRetryCount=([^5]|5.|.{2,})')"
verdict 5.16 WARN "$(containers_where 'PidMode={{ .HostConfig.PidMode }}' '^PidMode=host$')"
verdict 5.17 WARN "$(containers_where 'IpcMode={{ .HostConfig.IpcMode }}' '^IpcMode=host$')"
verdict 5.20 WARN "$(containers_where '{{ range .Mounts }} {{ json .Propagation }} {{ end }}' 'shared')"
verdict 5.21 WARN "$(containers_where 'UTSMode={{ .HostConfig.UTSMode }}' '^UTSMode=host$')"
verdict 5.22 WARN "$(containers_where 'SecurityOpt={{ .HostConfig.SecurityOpt }}' 'seccomp[:=]unconfined')"
verdict 5.25 WARN "$(containers_where 'CgroupParent={{ .HostConfig.CgroupParent }}' '^CgroupParent=.+' | grep -v '<no value>')"
nnp=""
for c in "${CONTAINERS[@]}"; do
  docker inspect --format '{{ .HostConfig.SecurityOpt }}' "$c" | grep -q no-new-privileges ||
    nnp="$nnp $(docker inspect --format '{{ .Name }}' "$c")"
done
verdict 5.26 WARN "$nnp"
unhealthy=""
for c in "${CONTAINERS[@]}"; do
  docker inspect --format '{{ .State.Health.Status }}' "$c" >/dev/null 2>&1 ||
    unhealthy="$unhealthy $(docker inspect --format '{{ .Name }}' "$c")"
done
verdict 5.27 WARN "$unhealthy"
verdict 5.29 WARN "$(containers_where 'PidsLimit={{ .HostConfig.PidsLimit }}' '^PidsLimit=(0|<nil>|-1|<no value>)$')"
verdict 5.31 WARN "$(containers_where '{{ .HostConfig.UsernsMode }}' 'host')"
verdict 5.32 WARN "$(containers_where '{{ .Mounts }}' 'docker\.sock')"

# --- section 7: swarm ---------------------------------------------------------------
if [ "$swarm" = active ]; then
  leaders=$(docker node ls --format '{{ .ManagerStatus }}' 2>/dev/null | grep -c Leader)
  if [ "$leaders" -eq 1 ]; then say 7.1 PASS; else say 7.1 WARN "$leaders leaders"; fi
  if ss -lnt | awk '{print $4}' | grep -qE '^(\[::\]|::|\*|0\.0\.0\.0):2377$'; then
    say 7.2 WARN
  else
    say 7.2 PASS
  fi
  plain=$(docker network ls --filter driver=overlay --quiet |
    xargs -r docker network inspect --format '{{ .Name }} {{ .Options }}' |
    grep -v 'encrypted:' | cut -d' ' -f1)
  verdict 7.3 WARN "$plain"
  if docker swarm unlock-key 2>/dev/null | grep -q SWMKEY; then say 7.5 PASS; else say 7.5 WARN; fi
else
  for n in 7.1 7.2 7.3 7.5; do say "$n" PASS "swarm mode not enabled"; done
fi
