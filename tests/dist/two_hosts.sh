#!/usr/bin/env bash
# two_hosts.sh — dist_train on two ranks as two hosts on this machine: two network namespaces joined by a
# veth pair, each rank in its own (and with its own host name, so Open MPI sees two nodes), Open MPI's TCP
# transport between them (no shared memory), its remote daemon started through a launch agent that enters
# the other namespace where ssh would log in to another machine. So the job takes the real network path:
# out-of-band wire-up, then every allgather of the gradients, over TCP/IP on the veth link.
#
# Usage: two_hosts.sh MPIEXEC DIST_TRAIN
# Prints "two_hosts: all checks passed" on success; "two_hosts: skipped: REASON" (exit 0) where namespaces
# cannot be made (not root, no iproute2 or unshare, a container without CAP_NET_ADMIN).
set -uo pipefail
mpiexec=$1 dist_train=$2

skip() { echo "two_hosts: skipped: $*"; exit 0; }
fail() { echo "two_hosts: FAIL: $*"; exit 1; }
[[ $(id -u) == 0 ]] || skip "needs root for ip netns"
command -v ip > /dev/null || skip "no ip (iproute2)"
command -v unshare > /dev/null || skip "no unshare (util-linux)"

a=ctnet_a$$ b=ctnet_b$$ va=ctva$$ vb=ctvb$$
work=$(mktemp -d)
cleanup() {
  ip netns del "$a" 2> /dev/null
  ip netns del "$b" 2> /dev/null  # the veth pair goes with its namespaces
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$a" 2> "$work/err" || skip "ip netns add: $(head -1 "$work/err")"
ip netns add "$b" || fail "ip netns add $b"
ip link add "$va" type veth peer name "$vb" 2> "$work/err" || skip "veth: $(head -1 "$work/err")"
ip link set "$va" netns "$a" && ip link set "$vb" netns "$b" || fail "moving the veth ends"
ip -n "$a" addr add 10.77.0.1/24 dev "$va" && ip -n "$b" addr add 10.77.0.2/24 dev "$vb" || fail "addresses"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "$va" up && ip -n "$b" link set "$vb" up || fail "link up"

# The launch agent, called as `agent HOST COMMAND...` as ssh would be: runs COMMAND in HOST's namespace
# under HOST's own host name.
cat > "$work/agent" << AGENT
#!/usr/bin/env bash
host=\$1; shift
case \$host in
  10.77.0.1) ns=$a name=ctnet-host-a ;;
  10.77.0.2) ns=$b name=ctnet-host-b ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$name; \$*"
AGENT
chmod +x "$work/agent"

# mpiexec in host a, one rank per host, TCP only, on the veth subnet only.
run_job() {
  ip netns exec "$a" unshare --uts /bin/sh -c 'hostname ctnet-host-a; exec "$@"' sh \
    env OMP_NUM_THREADS=1 timeout 300 "$mpiexec" --allow-run-as-root --host 10.77.0.1:1,10.77.0.2:1 -np 2 \
    -x OMP_NUM_THREADS --mca plm_rsh_agent "$work/agent" --mca oob_tcp_if_include 10.77.0.0/24 \
    --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 "$@"
}
rx_bytes() { ip netns exec "$b" cat "/sys/class/net/$vb/statistics/rx_bytes"; }

where=$(run_job /bin/sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname) $(ip -4 -o addr show | grep -o "10\.77\.0\.[0-9]")"' 2>&1 | sort)
want=$'0 ctnet-host-a 10.77.0.1\n1 ctnet-host-b 10.77.0.2'
[[ $where == "$want" ]] || fail "the ranks are not on the two hosts: got '$where'"
echo "two_hosts: rank 0 on ctnet-host-a (10.77.0.1), rank 1 on ctnet-host-b (10.77.0.2)"

before=$(rx_bytes)
out=$(run_job "$dist_train" 2>&1)
status=$?
after=$(rx_bytes)
echo "$out"
[[ $status == 0 ]] || fail "dist_train exit status $status"
grep -q "^0 check(s) failed on 2 rank(s)$" <<< "$out" || fail "dist_train's checks"
# Every step's gradient allgather crosses the link: several hundred steps of a ~1-10 KB arena.
received=$((after - before))
echo "two_hosts: host b received $received bytes over the veth link during dist_train"
((received > 200000)) || fail "only $received bytes crossed the link: the ranks did not talk over TCP/IP"
echo "two_hosts: all checks passed"
