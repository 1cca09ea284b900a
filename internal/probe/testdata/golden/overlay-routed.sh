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
pdev=cni0; podmtu=$(mtu_of cni0)
if [ -z "$podmtu" ]; then pdev=$(dev_to 198.18.7.12); [ -n "$pdev" ] && podmtu=$(mtu_of "$pdev"); fi
echo '@@podnet section pod-mtu'; echo "$pdev $podmtu"; echo '@@podnet exit '0
echo '@@podnet section ping underlay 198.18.7.12'; $PING -c 3 -i 0.2 -W 1 198.18.7.12 2>&1; rc=$?; echo '@@podnet exit '$rc
urc=$rc
if [ $iputils = yes ] && [ -n "$podmtu" ]; then
  size=$((podmtu+0)); echo '@@podnet section df underlay 198.18.7.12 '$size; $PING -M do -c 2 -i 0.2 -W 1 -s $((size-28)) 198.18.7.12 2>&1; rc=$?; echo '@@podnet exit '$rc
  if [ $rc != 0 ] && [ $urc = 0 ]; then echo '@@podnet section pmtu underlay 198.18.7.12'; lo=68; hi=$((size-1)); best=0; while [ $lo -le $hi ]; do mid=$(((lo+hi)/2)); if $PING -M do -c 1 -W 1 -s $((mid-28)) 198.18.7.12 >/dev/null 2>&1; then best=$mid; lo=$((mid+1)); else hi=$((mid-1)); fi; done; echo "pmtu $best"; echo '@@podnet exit '0; fi
fi
echo '@@podnet end'
