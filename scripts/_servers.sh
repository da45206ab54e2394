# Sourced by test.sh: the replica tests (tests/servers.py) start a real redis-server and
# PostgreSQL on loopback. Install Debian's packages when they are missing (as root, as in CI);
# RUNLEVEL=1 keeps the packages from starting their own system-wide services.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (Debian packages) for the replica tests"
    apt-get update -qq
    RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "the replica tests need ${missing[*]}: install them (Debian: sudo apt-get install ${missing[*]})" >&2
  fi
fi
