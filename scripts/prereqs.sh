#!/usr/bin/env bash
# Check (and where possible install) the system prerequisites of pyrtap.
#
#   - Linux with /dev/net/tun (tries `modprobe tun` once when missing)
#   - io_uring not disabled (/proc/sys/kernel/io_uring_disabled absent or 0)
#   - python3 >= 3.11 with venv/ensurepip and Python.h
#   - a C compiler, liburing-dev (>= 2.3) and iproute2 (ip, tc)
#   - iperf3 and iputils-ping (ping): the TCP workload of the demo and its tests
#   - optional: dpdk-dev (dpdk-testpmd, DPDK's C net_tap) for the demo's testpmd
#     row; when it cannot be had the row is skipped with a note
#
# Missing Debian packages are installed with apt-get (root only); `apt-get
# update` runs only when a package has no install candidate or the first
# install attempt fails. Idempotent: when everything is present it only checks.
# On a problem that cannot be fixed it prints one "pyrtap: error: ..." line
# and exits 1.
#
# Environment: PYTHON (default python3), PYRTAP_SKIP_PREREQS=1 skips all checks.
set -euo pipefail

PYTHON=${PYTHON:-python3}
MIN_LIBURING=2.3

die()  { echo "pyrtap: error: $*" >&2; exit 1; }
warn() { echo "pyrtap: warning: $*" >&2; }
info() { echo "pyrtap: $*" >&2; }

if [[ "${PYRTAP_SKIP_PREREQS:-0}" == 1 ]]; then
    exit 0
fi

[[ "$(uname -s)" == Linux ]] || die "pyrtap needs Linux (TAP interfaces and io_uring); this is $(uname -s)"

is_root=0
[[ "$(id -u)" == 0 ]] && is_root=1

# --- kernel: /dev/net/tun -----------------------------------------------------
if [[ ! -c /dev/net/tun ]]; then
    if (( is_root )) && command -v modprobe >/dev/null 2>&1; then
        modprobe tun >/dev/null 2>&1 || true
    fi
    [[ -c /dev/net/tun ]] || die "/dev/net/tun is missing: load the tun module ('modprobe tun') or, in a container, pass --device /dev/net/tun"
fi

# --- kernel: io_uring ---------------------------------------------------------
if [[ -r /proc/sys/kernel/io_uring_disabled ]]; then
    v=$(tr -d '[:space:]' < /proc/sys/kernel/io_uring_disabled)
    case "$v" in
        ""|0) ;;
        *) die "io_uring is disabled (kernel.io_uring_disabled=$v); enable it with 'sysctl -w kernel.io_uring_disabled=0'" ;;
    esac
fi

# --- python -------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH (Python >= 3.11 is needed)"
pyinfo=$("$PYTHON" - <<'EOF' 2>/dev/null || true
import os, sys, sysconfig, importlib.util as u
ok_ver = sys.version_info >= (3, 11)
has_venv = u.find_spec("venv") is not None and u.find_spec("ensurepip") is not None
has_h = os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
print("%d.%d %d %d %d %s" % (sys.version_info[0], sys.version_info[1], ok_ver, has_venv, has_h,
                             "system" if sys.prefix in ("/usr", "/usr/local") and sys.base_prefix == sys.prefix else "other"))
EOF
)
[[ -n "$pyinfo" ]] || die "$PYTHON does not run"
read -r py_ver py_ok py_venv py_h py_kind <<<"$pyinfo"
[[ "$py_ok" == 1 ]] || die "$PYTHON is Python $py_ver; pyrtap needs Python >= 3.11 (set PYTHON=/path/to/python3.11)"

# --- Debian packages ----------------------------------------------------------
# (no `cmd | grep -q` below: with pipefail, grep's early exit can fail the pipe)
pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

need=()
if ! pkg_installed liburing-dev && [[ ! -e /usr/include/liburing.h && ! -e /usr/local/include/liburing.h ]]; then
    need+=(liburing-dev)
fi
have_tool() {  # root's PATH has /usr/sbin, a user's may not
    command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /sbin/$1 ]]
}
if ! have_tool ip || ! have_tool tc; then
    need+=(iproute2)
fi
if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    need+=(gcc libc6-dev)
fi
# The TCP workload (pyrtap.tcpfwd) and tests/test_l2fwd.py measure with these.
have_tool iperf3 || need+=(iperf3)
have_tool ping   || need+=(iputils-ping)
# Only Debian's own python3 can be fixed with apt; pyenv & co. ship these.
if [[ "$py_kind" == system ]]; then
    # Debian splits ensurepip's wheels into python3.X-venv
    if [[ "$py_venv" != 1 ]] || ! pkg_installed "python${py_ver}-venv"; then
        need+=("python${py_ver}-venv")
    fi
    [[ "$py_h" == 1 ]]    || need+=("python3-dev")
fi

if (( ${#need[@]} )); then
    if ! command -v apt-get >/dev/null 2>&1; then
        die "missing ${need[*]} and apt-get is not available; install them with your package manager"
    fi
    if (( ! is_root )); then
        die "missing ${need[*]}; installing needs root: run 'sudo apt-get install ${need[*]}' or run make as root"
    fi
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/pyrtap-apt.XXXXXX.log)
    apt_q() { apt-get -y -qq -o Dpkg::Use-Pty=0 "$@" </dev/null >>"$log" 2>&1; }
    no_candidate() {
        local p
        for p in "${need[@]}"; do
            [[ "$(apt-cache policy "$p" 2>/dev/null)" =~ Candidate:\ [^\(] ]] || return 0
        done
        return 1
    }
    updated=0
    if no_candidate; then
        info "apt-get update"
        apt_q update || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
        updated=1
    fi
    info "apt-get install ${need[*]}"
    if ! apt_q install --no-install-recommends "${need[@]}"; then
        if (( ! updated )); then
            info "apt-get update (install failed, package lists may be stale)"
            apt_q update || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
            apt_q install --no-install-recommends "${need[@]}" \
                || { tail -n 20 "$log" >&2; die "apt-get install ${need[*]} failed (log: $log)"; }
        else
            tail -n 20 "$log" >&2
            die "apt-get install ${need[*]} failed (log: $log)"
        fi
    fi
    rm -f "$log"
fi

# --- optional: dpdk-dev (dpdk-testpmd) -----------------------------------------
# Only the demo's testpmd row needs it: a failure here is a warning, never fatal.
# A failed attempt is remembered in .stamp-no-dpdk (removed by `make clean`) so that
# every later make does not run apt-get again; PYRTAP_NO_DPDK=1 skips it altogether.
no_dpdk_stamp="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.stamp-no-dpdk"
if [[ "${PYRTAP_NO_DPDK:-0}" != 1 && ! -e "$no_dpdk_stamp" && ! -x /usr/bin/dpdk-testpmd ]] \
        && ! command -v dpdk-testpmd >/dev/null 2>&1; then
    if (( is_root )) && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        log=$(mktemp /tmp/pyrtap-apt.XXXXXX.log)
        if [[ ! "$(apt-cache policy dpdk-dev 2>/dev/null)" =~ Candidate:\ [^\(] ]]; then
            apt-get -y -qq -o Dpkg::Use-Pty=0 update </dev/null >>"$log" 2>&1 || true
        fi
        if [[ "$(apt-cache policy dpdk-dev 2>/dev/null)" =~ Candidate:\ [^\(] ]]; then
            info "apt-get install dpdk-dev (optional: dpdk-testpmd for the demo's testpmd row)"
            apt-get -y -qq -o Dpkg::Use-Pty=0 install --no-install-recommends dpdk-dev </dev/null >>"$log" 2>&1 \
                || warn "apt-get install dpdk-dev failed (log: $log); the demo skips its testpmd row"
        else
            warn "dpdk-dev has no install candidate here; the demo skips its testpmd row"
        fi
        if [[ -x /usr/bin/dpdk-testpmd ]]; then rm -f "$log"; else touch "$no_dpdk_stamp" || true; fi
    else
        warn "dpdk-testpmd not found (package dpdk-dev); the demo skips its testpmd row"
    fi
fi

# liburing version (setup.py targets liburing >= 2.3, Debian 12's version)
if pkg_installed liburing-dev; then
    v=$(dpkg-query -W -f='${Version}' liburing-dev)
    if ! dpkg --compare-versions "$v" ge "$MIN_LIBURING"; then
        die "liburing-dev $v is too old; pyrtap needs liburing >= $MIN_LIBURING"
    fi
fi

# Re-check what apt cannot fix for a non-system python.
if [[ "$py_kind" != system ]]; then
    [[ "$py_venv" == 1 ]] || die "$PYTHON lacks the venv/ensurepip modules; use a Python build that has them"
    [[ "$py_h" == 1 ]]    || die "$PYTHON lacks its C headers (Python.h); install its -dev package"
fi

if (( ! is_root )); then
    warn "not running as root: creating TAP interfaces needs root (CAP_NET_ADMIN), so most tests and the demo will fail or skip"
fi
exit 0
