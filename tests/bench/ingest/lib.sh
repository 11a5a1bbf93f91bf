# Shared helpers of the C-STORE benchmark, sourced by run.sh and orthanc_trial.sh.

# send PORT CALLED_AE DIR ASSOCIATIONS NODELAY LOG
# Sends every file under DIR with storescu, on one association (ASSOCIATIONS=1, files
# of all DIR/part* folders in turn) or one association per DIR/part* folder at once.
# NODELAY=set puts TCP_NODELAY=1 in storescu's environment, which makes DCMTK disable
# Nagle's algorithm on the sending socket; NODELAY=unset removes it. Prints the
# elapsed seconds.
send() {
  local port=$1 called=$2 dir=$3 associations=$4 nodelay=$5 log=$6
  local runner=(env -u TCP_NODELAY)
  [ "$nodelay" = set ] && runner=(env TCP_NODELAY=1)
  local start end
  start=$(date +%s.%N)
  if [ "$associations" = 1 ]; then
    "${runner[@]}" storescu -R -xe -aet BENCH -aec "$called" 127.0.0.1 "$port" +sd +r "$dir" \
      >>"$log" 2>&1
  else
    local pids=() part
    for part in "$dir"/part*; do
      "${runner[@]}" storescu -R -xe -aet BENCH -aec "$called" 127.0.0.1 "$port" +sd "$part" \
        >>"$log" 2>&1 &
      pids+=($!)
    done
    wait "${pids[@]}"
  fi
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# sample_rss PID OUT: appends the resident set size of PID in KiB to OUT every 0.5 s
# until PID exits or the sampler is killed.
sample_rss() {
  local pid=$1 out=$2
  while [ -r "/proc/$pid/status" ]; do
    awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" >>"$out" 2>/dev/null || true
    sleep 0.5
  done
}
