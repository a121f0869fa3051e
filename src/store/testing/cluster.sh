# A throwaway PostgreSQL cluster for one test process. cluster.rs runs it as
#   sh -c "$script" tsunagu-pg BIN_DIR
# with stdin a pipe whose write end only the test process holds (Rust opens
# it close-on-exec, so nothing the tests spawn inherits it).
#
# It prints one line: "ready DIR" once the server accepts connections on the
# unix socket DIR/.s.PGSQL.5432 (no TCP port, so nothing to collide with), or
# the reason it could not start. Then it waits for end of file on stdin. The
# kernel closes the pipe when the test process ends, however it ends (tests
# done, panic, Ctrl-C, SIGKILL), and this shell then stops the server and
# deletes DIR. A Rust exit hook could not do this: test binaries do not run
# static destructors, and SIGKILL runs nothing.
set -u
bin=$1
exec 2>&1
# Ctrl-C signals the whole foreground process group: outlive the test process
# so the clean-up below still runs. SIGPIPE: the test process may be gone
# before "ready" is written.
trap '' INT TERM HUP QUIT PIPE

# initdb and postgres refuse to run as root: Debian's package provides the
# postgres user for them.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A cluster whose shell was SIGKILLed (the only way it outlives its test
# process): stop it and delete it. Its postmaster is found by its pid file and
# confirmed by its working directory, so no other process can be signalled.
for old in /tmp/tsunagu-pg-*; do
  [ -f "$old/owner" ] || continue
  [ "$(id -u)" = 0 ] || [ -O "$old/owner" ] || continue
  [ -d "/proc/$(cat "$old/owner")" ] && continue
  pid=$(head -n 1 "$old/data/postmaster.pid" 2>/dev/null)
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/cwd")" = "$old/data" ]; then
    kill -QUIT "$pid"
  fi
  rm -rf "$old"
done

# In /tmp, not $TMPDIR: a unix socket path must stay under 108 bytes, and
# under root the postgres user must be able to reach the directory.
dir=$(mktemp -d /tmp/tsunagu-pg-XXXXXXXX) || exit 1
echo "$PPID" >"$dir/owner"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"

stop() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$dir"
}

# Durability settings off: the data lives as long as the test process.
if as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
  --no-sync --no-instructions >"$dir/initdb.log" 2>&1 &&
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
    "-p 5432 -k '$dir' -c listen_addresses='' -c max_connections=500 \
     -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >"$dir/pg_ctl.log" 2>&1; then
  echo "ready $dir"
else
  echo "PostgreSQL did not start in $dir:"
  cat "$dir/initdb.log" "$dir/pg_ctl.log" "$dir/server.log" 2>/dev/null
  stop
  exit 1
fi

exec >/dev/null
# Nothing is ever written to stdin: this returns at end of file.
read -r _
stop
