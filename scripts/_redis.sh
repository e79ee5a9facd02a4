# Sourced by scripts/test.sh: start a throwaway Redis (the Celery broker) on 127.0.0.1 and export
# ENKASH_TEST_REDIS_URL. Installs Debian's redis-server when missing. Stopped by its pid on exit.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Redis (Debian package redis-server)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
REDIS_DIR="$(mktemp -d /tmp/enkash-redis.XXXXXX)"
REDIS_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --save "" --appendonly no \
  --protected-mode yes --daemonize no >"$REDIS_DIR/log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break
  kill -0 "$REDIS_PID" 2>/dev/null || { cat "$REDIS_DIR/log" >&2; exit 1; }
  sleep 0.1
done
stop_redis() { kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null; rm -rf "$REDIS_DIR"; }
export ENKASH_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
