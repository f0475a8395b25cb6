#!/usr/bin/env bash
# A whole container lifecycle, played the way YARN's NodeManager plays it, against the real
# setuid binary in a throw-away sandbox: install, --checksetup, initialize (localizer), launch,
# liveness probe, SIGTERM, list, delete -- then the same by hand with the operator commands
# (run, signal, list, delete), caller pinning, and broken installs explained by
# `--checksetup --verbose`. Everything it creates (users, group, the install prefix) is removed at
# the end. Needs root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "demo/lifecycle.sh needs root: it installs a setuid binary and creates users." >&2
  exit 1
fi
command -v setpriv >/dev/null || { echo "setpriv (util-linux) is required" >&2; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
echo "== building the release binary"
cargo build --release --quiet
bin_src="$here/target/release/container-executor"

tag="cedemo$$"
group="${tag}_hadoop"; nm="${tag}_nm"; alice="${tag}_alice"; ops="${tag}_ops"
prefix="/opt/$tag"
cleanup() {
  set +e
  pkill -u "$alice" 2>/dev/null
  rm -rf "$prefix"
  userdel "$alice" 2>/dev/null; userdel "$ops" 2>/dev/null; userdel "$nm" 2>/dev/null
  groupdel "$group" 2>/dev/null
}
trap cleanup EXIT

groupadd "$group"
useradd -M -N -g "$group" -s /bin/sh "$nm"
useradd -M -U -s /bin/sh "$alice"
# A second member of the NodeManager group (an operator account): pinning keeps it out.
useradd -M -U -G "$group" -s /bin/sh "$ops"

install -d -m 0755 -o root -g root "$prefix" "$prefix/bin" "$prefix/etc" "$prefix/etc/hadoop"
install -m 6050 -o root -g "$group" "$bin_src" "$prefix/bin/container-executor"
cfg="$prefix/etc/hadoop/container-executor.cfg"
cat > "$cfg" <<CFG
yarn.nodemanager.linux-container-executor.group=$group
yarn.nodemanager.linux-container-executor.nm-user=$nm
banned.users=yarn,mapred,hdfs,bin
min.user.id=1000
CFG
chown root:root "$cfg"; chmod 0400 "$cfg"

# The NodeManager's directories: two local dirs and a log dir, owned by the NM user.
L1="$prefix/nm-local1"; L2="$prefix/nm-local2"; G1="$prefix/nm-logs"
for d in "$L1" "$L2" "$G1"; do install -d -m 0755 -o "$nm" -g "$group" "$d"; done
for d in "$L1" "$L2"; do
  install -d -m 0755 -o "$nm" -g "$group" "$d/usercache"
  install -d -m 0700 -o "$nm" -g "$group" "$d/nmPrivate"
done

CE="$prefix/bin/container-executor"
step() { echo; echo "== $*"; }
# Run the binary as the NodeManager would: as the NM user, NM group, empty environment.
as_nm() {
  set +e
  setpriv --reuid="$nm" --regid="$group" --init-groups env -i "$CE" "$@"
  rc=$?
  set -e
  echo "-- exit code $rc"
  return 0
}

app=application_1700000000000_0001
cid=container_1700000000000_0001_01_000002
priv="$L1/nmPrivate/$app/$cid"
install -d -m 0700 -o "$nm" -g "$group" "$L1/nmPrivate/$app" "$priv"

step "checksetup on a good install (the NodeManager runs this at start-up: silent, exit 0)"
as_nm --checksetup
step "the same, explained (what an operator sees on a terminal, or with --verbose)"
as_nm --checksetup --verbose --local-dir "$L1" --local-dir "$L2" --log-dir "$G1"

step "initialize (command 0): user, app and log dirs; the localizer runs as $alice in the app dir"
echo "secret-tokens" > "$priv/$cid.tokens"; chown "$nm:$group" "$priv/$cid.tokens"; chmod 0600 "$priv/$cid.tokens"
as_nm "$alice" "$alice" 0 "$app" "$cid" "$priv/$cid.tokens" "$L1%$L2" "$G1" \
  /bin/sh -c 'echo "localizer: uid=$(id -un) cwd=$PWD tokens=$(cat *.tokens)"'

step "launch (command 1): the container script runs as $alice; we probe and stop it meanwhile"
wd="$L2/usercache/$alice/appcache/$app/$cid"
cat > "$priv/launch_container.sh" <<'SCRIPT'
#!/bin/bash
echo "container: uid=$(id -un) pwd=$PWD umask=$(umask)"
exec sleep 300
SCRIPT
chown "$nm:$group" "$priv/launch_container.sh"
cp "$priv/$cid.tokens" "$priv/$cid.launch.tokens"; chown "$nm:$group" "$priv/$cid.launch.tokens"
as_nm "$alice" "$alice" 1 "$app" "$cid" "$wd" "$priv/launch_container.sh" "$priv/$cid.launch.tokens" \
  --http "$priv/$cid.pid" "$L1%$L2" "$G1" cgroups=none &
launcher=$!
for _ in $(seq 100); do [ -s "$priv/$cid.pid" ] && break; sleep 0.1; done
pid=$(cat "$priv/$cid.pid")
echo "pid file: $priv/$cid.pid -> $pid"

step "signal 0 (liveness probe, command 2)"
as_nm "$alice" "$alice" 2 "$pid" 0
step "signal 15 (SIGTERM)"
as_nm "$alice" "$alice" 2 "$pid" 15
wait "$launcher" || true
echo "exit code file: $(cat "$priv/$cid.pid.exitcode")  (143 = killed by SIGTERM, what the NodeManager expects)"
step "signal 0 again: the process group is gone (9)"
as_nm "$alice" "$alice" 2 "$pid" 0

step "the tree the NodeManager sees (owner:group mode path)"
find "$L1/usercache" "$L2/usercache" "$G1" -printf '%u:%g %m %p\n' | sed "s|$prefix/||" | sort -k3

step "list as user (command 5): the container's work dir"
as_nm "$alice" "$alice" 5 "$wd"

step "delete as user (command 3): the application's directories and logs"
as_nm "$alice" "$alice" 3 "$L1/usercache/$alice/appcache/$app"
as_nm "$alice" "$alice" 3 "$L2/usercache/$alice/appcache/$app"
as_nm "$alice" "$alice" 3 "" "$G1/$app"   # empty sub-path: the final rmdir runs as the NM
ls -la "$L2/usercache/$alice/appcache" "$G1"

step "the same lifecycle by hand: the operator's run (initialize + launch + wait, each step shown)"
cat > "$prefix/job.sh" <<'SCRIPT'
#!/bin/sh
echo "job: running as $(id -un) in $PWD"
ls
exit 0
SCRIPT
chown "$nm:$group" "$prefix/job.sh"; chmod 0750 "$prefix/job.sh"
as_nm run --user "$alice" --script "$prefix/job.sh" --local-dir "$L1" --local-dir "$L2" --log-dir "$G1"
app2=$(ls "$L1/usercache/$alice/appcache" | head -1)
step "operator list and delete of that application ($app2)"
as_nm list --user "$alice" --dir "$L1/usercache/$alice/appcache/$app2"
as_nm delete --user "$alice" --path "$L1/usercache/$alice/appcache/$app2"
as_nm delete --user "$alice" --path "$L2/usercache/$alice/appcache/$app2"
as_nm delete --user "$alice" --base-dir "$G1/$app2"
step "operator signal: a liveness probe of a process group that is gone -> 9"
as_nm signal --user "$alice" --pid "$pid" --signal 0

step "caller pinning: $ops is in $group but the config pins $nm -> 22"
set +e
setpriv --reuid="$ops" --regid="$ops" --init-groups env -i "$CE" --checksetup
echo "-- exit code $?"
set -e

step "a broken install: config group-writable -> 24 (the report names the fault and the fix)"
chmod 0460 "$cfg"; as_nm --checksetup; as_nm --checksetup --verbose | grep -A3 'FAIL'; chmod 0400 "$cfg"
step "a broken install: binary without setgid (mode 4050) -> 22"
chmod 4050 "$CE"; as_nm --checksetup; as_nm --checksetup --verbose | grep -A4 'FAIL'; chmod 6050 "$CE"
step "a refused user: root -> 255"
as_nm root root 2 1 0
as_nm run --user root --script "$prefix/job.sh" --local-dir "$L1" --log-dir "$G1"

echo; echo "== done; removing the sandbox"
