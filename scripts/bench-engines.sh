#!/bin/bash
# The issue-6 measurement: ns per run of the six programs (and the UDP-checksum row) on one engine, the median of N
# runs of `vethxdp bench` each, and the geometric mean of the six. Needs a Release build of the CLI:
#   dotnet build src/Cli -c Release
#   scripts/bench-engines.sh jit [N]            # N defaults to 3; engines: interp, jit-checked, jit
#   KERNEL=1 scripts/bench-engines.sh jit       # adds the running kernel's BPF_PROG_TEST_RUN figure (root, bpf())
# CLI=DIR picks another build directory. Prints one line per program: name, our median, the kernel's median (if asked).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in interp|jit-checked|jit) ;; *) set -- ;; esac
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: bench-engines.sh interp|jit-checked|jit [N]" >&2; exit 2; fi
engine=$1
n=${2:-3}
case "$n" in ''|*[!0-9]*|0) echo "bench-engines.sh: N must be a positive number of runs, not '$n'" >&2; exit 2 ;; esac
cli=${CLI:-$root/src/Cli/bin/Release/net10.0}
if [ ! -f "$cli/vethxdp.dll" ]; then echo "bench-engines.sh: $cli/vethxdp.dll is missing (dotnet build src/Cli -c Release)" >&2; exit 2; fi
c=$root/corpus/xdp
udp=020000000002020000000001080045000032000100004011f96c0a0000010a000002d4310035001e0000$(printf '0%.0s' $(seq 44))
tcp=02000000000202000000000108004500002800014000400626cd0a0000010a0000029c400050000003e8000000005002fffffb670000
csum=02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566
maps=$(mktemp)
trap 'rm -f "$maps"' EXIT
echo '{"maps":{"port_pair":{"type":"devmap_hash","entries":[{"key":"01000000","value":1}]}}}' > "$maps"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }

row() {
    local name=$1; shift
    local ours=() kern=()
    for _ in $(seq "$n"); do
        local out
        out=$(dotnet "$cli/vethxdp.dll" bench "$@" --engine "$engine" ${KERNEL:+--kernel} --json | tr -d ' \n')
        ours+=("$(echo "$out" | grep -o '"ns_per_run":[0-9.]*' | cut -d: -f2)")
        kern+=("$(echo "$out" | grep -o '"kernel_ns_per_run":[0-9.]*' | cut -d: -f2 || true)")
    done
    printf '%s %s %s\n' "$name" "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${kern[@]}" | grep . | median)"
}

{
    row pass "$c/xdp_pass.v3.o" --packet "$udp"
    row drop "$c/xdp_paper_drop.v3.o" --packet "$udp"
    row tx "$c/xdp_paper_tx.v3.o" --packet "$tcp"
    row redirect "$c/xdp_paper_redirect.v3.o" --packet "$udp" --maps-in "$maps"
    row flow "$c/xdp_flow_counter.v3.o" --packet "$udp"
    row csum-ip "$c/xdp_loops.v3.o" --packet "$tcp"
    row csum-udp "$c/xdp_loops.v3.o" --packet "$csum"
} | awk '{ print } $1 != "csum-udp" { s += log($2); k++ } END { printf "geometric mean of the six: %.2f\n", exp(s / k) }'
