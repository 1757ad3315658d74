SELECT * FROM generateRandom('a Nullable(UInt64), b Nullable(String), c Nullable(Float64), d Nullable(Decimal64(3))', 8, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
