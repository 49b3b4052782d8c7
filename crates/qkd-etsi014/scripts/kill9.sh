#!/usr/bin/env bash
# Fault test: kill -9 of KME-A during load, restart, continue; then every key the master received
# must be fetched by its slave at KME-B, bit-identical, and no key may have been served twice.
# Loopback only. Usage: kill9.sh [path/to/qkd] [rounds]
set -euo pipefail
QKD=${1:-qkd}; ROUNDS=${2:-300}
D=$(mktemp -d); A=; B=; trap 'kill -9 $A $B 2>/dev/null || true' EXIT INT TERM
"$QKD" kme dev-certs "$D" >/dev/null
start() { "$QKD" --quiet kme serve --config "$D/$1.toml" >/dev/null 2>&1 & echo $!; }
A=$(start kme-a); B=$(start kme-b)
C="--silent --cacert $D/ca.pem"
SA="$C --cert $D/sae-a.pem --key $D/sae-a.key"; SB="$C --cert $D/sae-b.pem --key $D/sae-b.key"
until curl $SA -o /dev/null https://127.0.0.1:8443/api/v1/keys/sae-b/status 2>/dev/null; do sleep 0.1; done
until curl $SB -o /dev/null https://127.0.0.1:8444/api/v1/keys/sae-a/status 2>/dev/null; do sleep 0.1; done
for i in $(seq 1 "$ROUNDS"); do
  # 8 concurrent requests of 4 keys each per round.
  PIDS=()
  for j in 1 2 3 4 5 6 7 8; do
    (curl $SA --max-time 5 -o "$D/r_${i}_$j.json" "https://127.0.0.1:8443/api/v1/keys/sae-b/enc_keys?number=4" 2>/dev/null || true) &
    PIDS+=($!)
  done
  if [ "$i" -eq $((ROUNDS / 3)) ] || [ "$i" -eq $((2 * ROUNDS / 3)) ]; then
    kill -9 "$A"; while kill -0 "$A" 2>/dev/null; do sleep 0.05; done; echo "round $i: kill -9 KME-A, restarting"
    A=$(start kme-a)
    until curl $SA -o /dev/null https://127.0.0.1:8443/api/v1/keys/sae-b/status 2>/dev/null; do sleep 0.1; done
  fi
  wait "${PIDS[@]}" 2>/dev/null || true
done
python3 - "$D" <<'PY'
import glob, json, subprocess, sys
d = sys.argv[1]
keys = {}
dup = 0
seen_bytes = set()
for f in sorted(glob.glob(f"{d}/r_*.json")):
    line = open(f).read().strip()
    if not line.startswith('{"keys"'):
        continue  # refused (503) or cut off by the kill: the master got nothing
    for k in json.loads(line)["keys"]:
        if k["key_ID"] in keys or k["key"] in seen_bytes:
            dup += 1
        keys[k["key_ID"]] = k["key"]; seen_bytes.add(k["key"])
missing = mismatch = 0
ids = list(keys)
for i in range(0, len(ids), 128):
    chunk = ids[i:i+128]
    body = json.dumps({"key_IDs": [{"key_ID": x} for x in chunk]})
    out = subprocess.run(["curl", "--silent", "--cacert", f"{d}/ca.pem", "--cert", f"{d}/sae-b.pem",
        "--key", f"{d}/sae-b.key", "-H", "content-type: application/json", "-d", body,
        "https://127.0.0.1:8444/api/v1/keys/sae-a/dec_keys"], capture_output=True, text=True).stdout
    try:
        got = {k["key_ID"]: k["key"] for k in json.loads(out)["keys"]}
    except Exception:
        missing += len(chunk); continue
    missing += sum(1 for x in chunk if x not in got)
    mismatch += sum(1 for x in chunk if x in got and got[x] != keys[x])
print(f"kill -9 test: {len(keys)} keys received by the master, duplicates {dup}, missing at slave {missing}, not identical {mismatch}")
sys.exit(1 if dup or missing or mismatch else 0)
PY
