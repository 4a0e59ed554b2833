# test/lib/common.sh: the set-up shared by `make test`, `make demo` and
# `make bench`. Sourced, not run. Every function works on a fresh Debian 12
# machine as root, and as an ordinary user once the packages are there.
#
# A run gets its own folder under /tmp with a private PostgreSQL tree (the
# Debian binaries copied, everything else linked, smam installed into it),
# so that two runs, or a run and a system-wide install, never collide.

set -o pipefail

SMAM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_MAJOR=15
SYS_PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
SMAM_PACKAGES=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-pgtap
               libtap-parser-sourcehandler-pgtap-perl libcurl4-openssl-dev libipc-run-perl
               make gcc perl util-linux)

say() { printf '== %s\n' "$*" >&2; }

# Install the Debian packages smam needs, when they are missing.
smam_ensure_packages() {
  local missing=() p
  for p in "${SMAM_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "smam needs these Debian packages: ${missing[*]}" >&2
    echo "Install them as root, then run this again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
  say "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

smam_build() {
  say "building smam"
  make -s -C "$SMAM_TOP" PG_CONFIG="$SYS_PGBIN/pg_config" >/dev/null
}

# The unprivileged OS user that owns the throwaway clusters.
smam_os_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  echo postgres
}

# Run a command as the cluster's OS user, with the environment we give it.
# The cluster's OS user may not be able to enter the caller's folder (a clone
# in root's mktemp -d folder is 0700): psql, the harness and the tests it
# runs then fail before they connect. They run from the run's folder, which
# that user owns, or from / before it exists.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "${SMAM_RUN:-/}" 2>/dev/null || cd /; runuser -u "$SMAM_OS_USER" -- env "$@")
  else
    env "$@"
  fi
}

# Make the run's folder, with a private PostgreSQL tree holding smam.
smam_setup_run() {
  SMAM_RUN=$(mktemp -d /tmp/smam-run.XXXXXX)
  SMAM_OS_USER=$(smam_os_user)
  local root=$SMAM_RUN/pg
  mkdir -p "$root/usr/lib/postgresql/$PG_MAJOR" "$root/usr/share/postgresql" "$SMAM_RUN/stage"
  cp -a "$SYS_PGBIN" "$root/usr/lib/postgresql/$PG_MAJOR/bin"
  cp -rs "/usr/lib/postgresql/$PG_MAJOR/lib" "$root/usr/lib/postgresql/$PG_MAJOR/lib"
  cp -rs "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/$PG_MAJOR"
  make -s -C "$SMAM_TOP" PG_CONFIG="$SYS_PGBIN/pg_config" DESTDIR="$SMAM_RUN/stage" install >/dev/null
  (cd "$SMAM_RUN/stage" && find . -type f) | while read -r f; do
    rm -f "$root/$f"; mkdir -p "$(dirname "$root/$f")"; cp "$SMAM_RUN/stage/$f" "$root/$f"
  done
  PGBIN=$root/usr/lib/postgresql/$PG_MAJOR/bin
  PGXS_DIR=/usr/lib/postgresql/$PG_MAJOR/lib/pgxs
  # The test inputs, readable by the cluster's owner whatever the clone's modes.
  mkdir -p "$SMAM_RUN/src"
  # README.md and docs/: test/perl/12_doc_examples.pl runs their SQL examples.
  # smam.control and META.json: test/perl/17_upgrade.pl and 18_meta.pl read them.
  cp -r "$SMAM_TOP/sql" "$SMAM_TOP/expected" "$SMAM_TOP/test" "$SMAM_TOP/README.md" "$SMAM_TOP/docs" \
        "$SMAM_TOP/smam.control" "$SMAM_TOP/META.json" "$SMAM_RUN/src/"
  chown -R "$SMAM_OS_USER" "$SMAM_RUN" 2>/dev/null || true
}

smam_free_port() {
  perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport, "\n"'
}

# Start a cluster in $SMAM_RUN/data; sets PGHOST, PGPORT, PGUSER and
# PGPASSFILE. It takes connections two ways: on its Unix socket with trust
# (pg_regress, the first TAP pass, the demo and the benchmarks), and on
# 127.0.0.1 with scram-sha-256 only, as an application connects (the TCP
# pass). The postgres role's password is random and lives only in
# $SMAM_RUN/pgpass (mode 0600, owned by the cluster's OS user).
smam_start_cluster() {
  local data=$SMAM_RUN/data passfile=$SMAM_RUN/pgpass password
  PGPORT=$(smam_free_port)
  PGHOST=$SMAM_RUN/sock
  PGUSER=postgres
  mkdir -p "$PGHOST" && chown "$SMAM_OS_USER" "$PGHOST" 2>/dev/null || true
  password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  [ ${#password} -eq 32 ] || { echo "could not make a password" >&2; return 1; }
  (umask 077 && printf '%s\n' "$password" >"$SMAM_RUN/pwfile" \
     && printf '127.0.0.1:%s:*:postgres:%s\n' "$PGPORT" "$password" >"$passfile") || return 1
  chown "$SMAM_OS_USER" "$SMAM_RUN/pwfile" "$passfile" 2>/dev/null || true
  as_owner "$PGBIN/initdb" -D "$data" -U postgres --pwfile="$SMAM_RUN/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$SMAM_RUN/initdb.log" 2>&1 \
    || { rm -f "$SMAM_RUN/pwfile"; cat "$SMAM_RUN/initdb.log" >&2; return 1; }
  rm -f "$SMAM_RUN/pwfile"
  # No trust over TCP, no replication, no IPv6: the socket, and 127.0.0.1 with a password.
  cat >"$data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
HBA
  cat >>"$data/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGHOST'
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'smam'
fsync = off
full_page_writes = off
max_connections = 60
timezone = 'UTC'
log_min_messages = warning
CONF
  as_owner "$PGBIN/pg_ctl" -D "$data" -l "$SMAM_RUN/server.log" -w -t 60 start >/dev/null \
    || { cat "$SMAM_RUN/server.log" >&2; return 1; }
  PGPASSFILE=$passfile
  export PGHOST PGPORT PGUSER PGPASSFILE
  say "PostgreSQL $PG_MAJOR on port $PGPORT, socket $PGHOST; 127.0.0.1:$PGPORT with scram-sha-256"
}

smam_stop_cluster() {
  [ -n "${SMAM_RUN:-}" ] && [ -d "$SMAM_RUN/data" ] || return 0
  as_owner "$PGBIN/pg_ctl" -D "$SMAM_RUN/data" -m immediate stop >/dev/null 2>&1 || true
}

smam_remove_run() {
  smam_stop_cluster
  [ -n "${SMAM_RUN:-}" ] && rm -rf "$SMAM_RUN"
}

psql_q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
