#!/bin/sh
# Self test of the Kamailio IMS-core stand-in (test/kamailio): starts it on a
# free loopback port and drives it with SIPp (scenarios in sipp/, rendered
# with sed into a work dir). Prints "kamailio-selftest: N passed, N failed";
# exits non-zero if anything failed. KEEP=1 keeps the work dir.
set -u

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kamailio-selftest.XXXXXX")
pass=0
fail=0
kpid=
picked=

cleanup() {
	if [ -n "$kpid" ]; then
		kill "$kpid" 2>/dev/null
		wait "$kpid" 2>/dev/null
		kpid=
	fi
	if [ "${KEEP:-0}" = 1 ] || [ "$fail" -ne 0 ]; then
		echo "kamailio-selftest: work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in timeout sipp kamailio ss sed od; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "kamailio-selftest: missing $t (run tools/setup)" >&2
		exit 2
	}
done

# a port free on 127.0.0.1 for both UDP and TCP, not handed out before
free_port() {
	i=0
	while [ $i -lt 200 ]; do
		i=$((i + 1))
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + r % 40000))
		case " $picked " in *" $p "*) continue ;; esac
		if [ -z "$(timeout 5 ss -Htuan "( sport = :$p )" 2>/dev/null)" ]; then
			picked="$picked $p"
			echo "$p"
			return 0
		fi
	done
	echo "kamailio-selftest: no free port" >&2
	exit 2
}

KPORT=$(free_port)   # Kamailio
PPORT=$(free_port)   # SIPp as the P-CSCF of alice (Path/Contact host:port)
BPORT=$(free_port)   # SIPp as the P-CSCF of bob
SPORT=$(free_port)   # SIPp sending requests
TPORT=$(free_port)   # SIPp registering over TCP
MPORT1=$(free_port) # SIPp RTP echo ports (SIPp binds mp and mp+2)
MPORT2=$(free_port)

# render SCENARIO NAME VAR=VALUE...  -> $work/NAME.xml
render() {
	src=$here/sipp/$1.xml
	dst=$work/$2.xml
	shift 2
	script=
	for kv in "$@"; do
		k=${kv%%=*}
		v=$(printf '%s' "${kv#*=}" | sed -e 's/[\\&|]/\\&/g')
		script="$script s|@$k@|$v|g;"
	done
	sed -e "$script" "$src" >"$dst"
	if grep -q '@[A-Z][A-Z]*@' "$dst"; then
		echo "kamailio-selftest: unrendered placeholder in $dst" >&2
		grep -n '@[A-Z][A-Z]*@' "$dst" >&2
		return 1
	fi
}

# sipp_run NAME LOCALPORT MEDIAPORT [sipp args...]  (scenario $work/NAME.xml)
sipp_run() {
	n=$1
	lp=$2
	mp=$3
	shift 3
	(cd "$work" && timeout 30 sipp -sf "$work/$n.xml" -m 1 -i 127.0.0.1 \
		-p "$lp" -mp "$mp" -nostdin -timeout 20 -timeout_error \
		-trace_msg -message_file "$work/$n.messages.log" \
		-trace_err -error_file "$work/$n.errors.log" \
		-trace_logs -log_file "$work/$n.log" \
		"$@" >"$work/$n.out" 2>&1)
}

result() {
	name=$1
	ok=$2
	shift 2
	if [ "$ok" = 0 ]; then
		pass=$((pass + 1))
		echo "ok   - $name"
		for n in "$@"; do
			[ -s "$work/$n.log" ] && sed -e 's/^/       /' "$work/$n.log"
		done
	else
		fail=$((fail + 1))
		echo "FAIL - $name"
		for n in "$@"; do
			for f in "$work/$n.errors.log" "$work/$n.out"; do
				[ -s "$f" ] && sed -e 's/^/       | /' "$f" | tail -n 30
			done
		done
	fi
	return 0
}

wait_udp_bound() {
	i=0
	while [ $i -lt 50 ]; do
		[ -n "$(timeout 5 ss -Huln "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

t0=$(date +%s.%N)

# ---------------------------------------------------------------- start
timeout 300 "$here/start" "$KPORT" "$work/kam" >"$work/kamailio.log" 2>&1 &
kpid=$!
i=0
ready=1
while [ $i -lt 100 ]; do
	if grep -q 'kamailio ready' "$work/kamailio.log" 2>/dev/null; then
		ready=0
		break
	fi
	kill -0 "$kpid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ $ready -ne 0 ]; then
	echo "kamailio-selftest: Kamailio did not start:" >&2
	tail -n 40 "$work/kamailio.log" >&2
	fail=$((fail + 1))
	echo "kamailio-selftest: $pass passed, $fail failed"
	exit 1
fi
echo "kamailio-selftest: Kamailio on 127.0.0.1:$KPORT (udp+tcp), P-CSCF SIPp on :$PPORT"

A="USER=alice IMPI=alice@ims.test TEL=\\+15550001 TOKEN=tok123 LPORT=$PPORT KPORT=$KPORT"

# ---------------------------------------------------------------- 0
render options options KPORT="$KPORT" &&
	sipp_run options "$SPORT" "$MPORT2" "127.0.0.1:$KPORT"
result "OPTIONS to the server itself -> 200 (readiness probe)" $? options

# ---------------------------------------------------------------- 1
render register_noauth t1_reg_noauth USER=alice &&
	sipp_run t1_reg_noauth "$PPORT" "$MPORT1" "127.0.0.1:$KPORT"
result "REGISTER without credentials -> 401 WWW-Authenticate: Digest realm=\"ims.test\"" $? t1_reg_noauth

# ---------------------------------------------------------------- 2
# shellcheck disable=SC2086
render register t2_reg_alice $A PASS=alicepw EXPIRES=600 &&
	sipp_run t2_reg_alice "$PPORT" "$MPORT1" "127.0.0.1:$KPORT"
result "REGISTER alice (IMPI alice@ims.test, Path, Require: path) -> 401 -> 200 with Service-Route, P-Associated-URI, Path, Contact" $? t2_reg_alice

# ---------------------------------------------------------------- 3
# shellcheck disable=SC2086
render pcscf_uas t3_pcscf $A CODE=200 REASON=OK &&
	render message t3_msg USER=alice FROM=bob CODE=200
sipp_run t3_pcscf "$PPORT" "$MPORT1" &
uas=$!
wait_udp_bound "$PPORT"
sipp_run t3_msg "$SPORT" "$MPORT2" "127.0.0.1:$KPORT"
rc=$?
wait $uas
urc=$?
[ $rc -eq 0 ] && [ $urc -eq 0 ]
result "terminating MESSAGE to sip:alice@ims.test reaches the P-CSCF with Route = stored Path, its 200 gets back" $? t3_pcscf t3_msg

# ---------------------------------------------------------------- 3b
# shellcheck disable=SC2086
render pcscf_uas t3b_pcscf $A CODE=430 REASON="Flow Failed" &&
	render message t3b_msg USER=alice FROM=bob CODE=430
sipp_run t3b_pcscf "$PPORT" "$MPORT1" &
uas=$!
wait_udp_bound "$PPORT"
sipp_run t3b_msg "$SPORT" "$MPORT2" "127.0.0.1:$KPORT"
rc=$?
wait $uas
urc=$?
[ $rc -eq 0 ] && [ $urc -eq 0 ]
result "P-CSCF answers the terminating MESSAGE with 430 Flow Failed -> 430 relayed to the sender" $? t3b_pcscf t3b_msg

# ---------------------------------------------------------------- 4
render register_badpw t4_badpw USER=alice IMPI=alice@ims.test PASS=wrongpw TOKEN=tok123 &&
	sipp_run t4_badpw "$PPORT" "$MPORT1" "127.0.0.1:$KPORT"
result "REGISTER alice with a wrong password -> 401/403" $? t4_badpw

# ---------------------------------------------------------------- 5
render message t5_msg USER=carol FROM=bob CODE=404 &&
	sipp_run t5_msg "$SPORT" "$MPORT2" "127.0.0.1:$KPORT"
result "MESSAGE to unregistered sip:carol@ims.test -> 404" $? t5_msg

# ---------------------------------------------------------------- 6
render register t6_reg_bob USER=bob IMPI=bob PASS=bobpw TEL='\\+15550002' \
	TOKEN=tokbob LPORT="$BPORT" KPORT="$KPORT" EXPIRES=3600 &&
	sipp_run t6_reg_bob "$BPORT" "$MPORT2" "127.0.0.1:$KPORT"
result "REGISTER bob (IMPI \"bob\" without domain, Expires 3600) -> 200" $? t6_reg_bob

# ---------------------------------------------------------------- 7
# bob's P-CSCF sends an originating MESSAGE with the Service-Route preloaded
# shellcheck disable=SC2086
render pcscf_uas t7_pcscf $A CODE=200 REASON=OK &&
	render message_orig t7_msg USER=alice FROM=bob KPORT="$KPORT" CODE=200
sipp_run t7_pcscf "$PPORT" "$MPORT1" &
uas=$!
wait_udp_bound "$PPORT"
sipp_run t7_msg "$BPORT" "$MPORT2" "127.0.0.1:$KPORT"
rc=$?
wait $uas
urc=$?
[ $rc -eq 0 ] && [ $urc -eq 0 ]
result "originating MESSAGE bob->alice with Route: <sip:orig@...;lr>: Service-Route consumed, delivered via alice's Path" $? t7_pcscf t7_msg

# ---------------------------------------------------------------- 8
render deregister t8_dereg USER=alice IMPI=alice@ims.test PASS=alicepw TOKEN=tok123 &&
	sipp_run t8_dereg "$PPORT" "$MPORT1" "127.0.0.1:$KPORT"
result "de-REGISTER alice (Expires: 0) -> 200 without Contact" $? t8_dereg

# ---------------------------------------------------------------- 9
render message t9_msg USER=alice FROM=bob CODE=404 &&
	sipp_run t9_msg "$SPORT" "$MPORT2" "127.0.0.1:$KPORT"
result "MESSAGE to de-registered alice -> 404" $? t9_msg

# ---------------------------------------------------------------- 10
render register t10_reg_tcp USER=carol IMPI=carol@ims.test PASS=carolpw \
	TEL='\\+15550003' TOKEN=tokcarol LPORT="$TPORT" KPORT="$KPORT" EXPIRES=600 &&
	sipp_run t10_reg_tcp "$TPORT" "$MPORT2" -t t1 "127.0.0.1:$KPORT"
result "REGISTER carol over TCP -> 200" $? t10_reg_tcp

# ---------------------------------------------------------------- done
if grep -E -q ' (ERROR|CRITICAL|BUG|ALERT):' "$work/kamailio.log"; then
	echo "FAIL - Kamailio logged errors:"
	grep -E ' (ERROR|CRITICAL|BUG|ALERT):' "$work/kamailio.log" | head -n 20
	fail=$((fail + 1))
fi
kill "$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
kpid=

t1=$(date +%s.%N)
echo "kamailio-selftest: run time $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s"
echo "kamailio-selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
