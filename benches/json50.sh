# The JSON workload of the benchmarks (sourced by scripts/bench-e2e and scripts/capture-golden): a JSON
# column with 50 typed paths (25 UInt64, 25 String) and two dynamic paths.
JSON50_TYPES=$(for i in $(seq 0 49); do if [ $((i % 2)) = 0 ]; then printf 'p%d UInt64, ' "$i"; else printf 'p%d String, ' "$i"; fi; done)
JSON50_TYPES=${JSON50_TYPES%, }
Q='\"'
JSON50_SRC=$(for i in $(seq 0 49); do
  if [ $((i % 2)) = 0 ]; then
    printf "'%sp%d%s:', toString(number * %d), ',', " "$Q" "$i" "$Q" "$i"
  else
    printf "'%sp%d%s:%s', toString(number %% %d), 'x%s,', " "$Q" "$i" "$Q" "$Q" "$((i * 7 + 3))" "$Q"
  fi
done)
# The JSON text of row `number` (an SQL expression).
JSON50_ROW="concat('{', $JSON50_SRC '${Q}d1${Q}:', toString(number), ',${Q}d2${Q}:${Q}v', toString(number % 10), '${Q}}')"
unset Q

# Makes bench_json50 (1M rows, Memory engine) on $CH_MODERN_URL unless it is there.
json50_table() {
  curl -fsS "$CH_MODERN_URL/" --data-binary "CREATE TABLE IF NOT EXISTS bench_json50 (j JSON($JSON50_TYPES)) ENGINE = Memory"
  if [ "$(curl -fsS "$CH_MODERN_URL/" --data-binary "SELECT count() FROM bench_json50")" != 1000000 ]; then
    curl -fsS "$CH_MODERN_URL/" --data-binary "TRUNCATE TABLE bench_json50"
    curl -fsS "$CH_MODERN_URL/" --data-binary "INSERT INTO bench_json50 SELECT $JSON50_ROW FROM numbers(1000000)"
  fi
}
