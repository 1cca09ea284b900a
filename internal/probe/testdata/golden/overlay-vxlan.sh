tool() { for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi; done; echo "$1"; }
IP=$(tool ip); BRIDGE=$(tool bridge); PING=$(tool ping)
ver() { v=$("$1" -V 2>&1); printf '%s\n' "$v" | { IFS= read -r l; printf '%s' "$l"; }; }
word_after() { w=$1; shift; while [ $# -gt 1 ]; do if [ "$1" = "$w" ]; then echo "$2"; return; fi; shift; done; }
mtu_of() { word_after mtu $($IP link show dev "$1" 2>/dev/null); }
dev_to() { word_after dev $($IP route get "$1" 2>/dev/null); }
via_to() { word_after via $($IP route get "$1" 2>/dev/null); }
fmt=text; $IP -j link show lo >/dev/null 2>&1 && fmt=json
echo '@@podnet format '$fmt
echo '@@podnet section tools'; echo "ip: $(ver $IP)"; echo "bridge: $(ver $BRIDGE)"; echo "ping: $(ver $PING)"; echo '@@podnet exit '0
echo '@@podnet section addr'; if [ $fmt = json ]; then $IP -j addr; else $IP addr; fi 2>&1; echo '@@podnet exit '$?
iputils=no; case "$($PING -V 2>&1)" in *iputils*) iputils=yes;; esac
echo '@@podnet section link flannel.1'; if [ $fmt = json ]; then $IP -j -d link show dev flannel.1 2>/dev/null || $IP link show dev flannel.1; else $IP -d link show dev flannel.1 2>/dev/null || $IP link show dev flannel.1; fi 2>&1; echo '@@podnet exit '$?
echo '@@podnet section fdb flannel.1'; if [ $fmt = json ]; then $BRIDGE -j fdb show dev flannel.1; else $BRIDGE fdb show dev flannel.1; fi 2>&1; echo '@@podnet exit '$?
echo '@@podnet section neigh show dev flannel.1'; if [ $fmt = json ]; then $IP -j neigh show dev flannel.1; else $IP neigh show dev flannel.1; fi 2>&1; echo '@@podnet exit '$?
pdev=flannel.1; podmtu=$(mtu_of flannel.1)
echo '@@podnet section pod-mtu'; echo "$pdev $podmtu"; echo '@@podnet exit '0
echo '@@podnet section route 10.244.1.0'; echo "$(dev_to 10.244.1.0) $(via_to 10.244.1.0)"; echo '@@podnet exit '0
echo '@@podnet section ping tunnel 10.244.1.0'; $PING -c 3 -i 0.2 -W 1 10.244.1.0 2>&1; rc=$?; echo '@@podnet exit '$rc
echo '@@podnet section ping underlay 198.18.7.12'; $PING -c 3 -i 0.2 -W 1 198.18.7.12 2>&1; rc=$?; echo '@@podnet exit '$rc
urc=$rc
if [ $iputils = yes ] && [ -n "$podmtu" ]; then
  echo '@@podnet section df tunnel 10.244.1.0 '$podmtu; $PING -M do -c 2 -i 0.2 -W 1 -s $((podmtu-28)) 10.244.1.0 2>&1; echo '@@podnet exit '$?
  size=$((podmtu+50)); echo '@@podnet section df underlay 198.18.7.12 '$size; $PING -M do -c 2 -i 0.2 -W 1 -s $((size-28)) 198.18.7.12 2>&1; rc=$?; echo '@@podnet exit '$rc
  if [ $rc != 0 ] && [ $urc = 0 ]; then echo '@@podnet section pmtu underlay 198.18.7.12'; lo=68; hi=$((size-1)); best=0; while [ $lo -le $hi ]; do mid=$(((lo+hi)/2)); if $PING -M do -c 1 -W 1 -s $((mid-28)) 198.18.7.12 >/dev/null 2>&1; then best=$mid; lo=$((mid+1)); else hi=$((mid-1)); fi; done; echo "pmtu $best"; echo '@@podnet exit '0; fi
fi
echo '@@podnet end'
