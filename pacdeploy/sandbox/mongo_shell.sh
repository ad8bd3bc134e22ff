#!/bin/sh
# The sandbox's mongo shell, what an exec into a simulated mongo pod runs as `mongo` (the
# lesson's 4.4) and as `mongosh` (the modern stack's 8.0); no mongod runs here. Both get
# `--quiet --eval SCRIPT` (mongosh also takes --norc), so one reading of the script serves. It records each call in $PACDEPLOY_EXEC_LOG and keeps mongod's fsync lock count
# per pod, as the real server does (MongoDB 4.4 manual, fsyncUnlock: each lock increments
# it, each unlock decrements it, an unlock at zero fails "fsyncUnlock called when not
# locked"). The pod is the one the caller names in the command's comment ("pacdeploy NS/POD").
# Exit codes follow the script pacdeploy sends: quit(0) when mongod did it, else quit(2);
# a script that accepts "not locked" as done (a release) exits 0 for it.
printf '%s\n' "$*" >> "$PACDEPLOY_EXEC_LOG"
who=$(printf '%s' "$*" | sed -n 's/.*comment: "pacdeploy \([^"]*\)".*/\1/p' | tr / _)
locks="$PACDEPLOY_EXEC_LOG.locks"
mkdir -p "$locks"
count=$(cat "$locks/${who:-unnamed}" 2>/dev/null || echo 0)
case "$*" in
  *fsyncUnlock*)
    if [ "$count" -eq 0 ]; then
      echo '{ "ok" : 0, "errmsg" : "fsyncUnlock called when not locked" }'
      case "$*" in *"not locked"*) exit 0 ;; esac
      exit 2
    fi
    count=$((count - 1)) ;;
  *"lock: true"*) count=$((count + 1)) ;;
esac
echo "$count" > "$locks/${who:-unnamed}"
echo "{ \"ok\" : 1, \"lockCount\" : $count }"
