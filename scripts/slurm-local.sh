#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the scale-out tests and for trying
# `hilgen slurm` without a cluster: munge, slurmctld and slurmd on localhost, no systemd, every
# file (keys, sockets, state, logs, pid files) in one scratch folder.
#
#   scripts/slurm-local.sh install          # Debian: slurmctld slurmd slurm-client munge (about 10 s)
#   scripts/slurm-local.sh start DIR        # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-local.sh stop DIR         # cancels every job, then stops what start started
#
# A start that fails stops what it had started. Stopping cancels the jobs first and waits for
# them (a job's slurmstepd ignores SIGTERM once slurmd is gone), then stops slurmd, slurmctld
# and munged by their pid files, so that nothing else on the machine is touched.
set -euo pipefail

cmd=${1:-}
dir=${2:-}

die() { echo "slurm-local: $*" >&2; exit 1; }

install() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "installing needs root (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

stop_pid() { # name pidfile
    local pidfile=$2
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

stop() {
    [ -n "$dir" ] || die "usage: $0 stop DIR"
    dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
    export SLURM_CONF=$dir/slurm.conf
    if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
        scancel --user "$(id -un)" 2>/dev/null || true
        for _ in $(seq 100); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pid slurmd "$dir/slurmd.pid"
    stop_pid slurmctld "$dir/slurmctld.pid"
    stop_pid munged "$dir/munged.pid"
    # Job steps orphaned by a slurmd that died first.
    pkill -9 -f "slurmstepd.*$dir" 2>/dev/null || true
    return 0
}

start() {
    [ -n "$dir" ] || die "usage: $0 start DIR"
    install
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null && die "a Slurm already runs from $dir"
    trap 'echo "slurm-local: start failed; stopping what started" >&2; stop' ERR
    mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
    chmod 700 "$dir/munge"
    local host mem cpus user
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
    user=$(id -un)
    # munge: its own key, socket and pid file.
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed"
    cat >"$dir/slurm.conf" <<EOF
ClusterName=hilgen-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmctldPort=$((6817 + RANDOM % 1000))
SlurmdPort=$((7817 + RANDOM % 1000))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SchedulerParameters=sched_interval=1
DependencyParameters=kill_invalid_depend
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$dir/slurm.conf" -i
    slurmd -f "$dir/slurm.conf"
    for _ in $(seq 100); do
        sinfo -h -o %T 2>/dev/null | grep -qx idle && break
        sleep 0.1
    done
    sinfo -h -o %T | grep -qx idle || { echo "slurm-local: the node did not become idle" >&2; false; }
    trap - ERR
    echo "export SLURM_CONF=$dir/slurm.conf"
}

case "$cmd" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 install | start DIR | stop DIR" ;;
esac
