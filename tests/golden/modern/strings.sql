SELECT * FROM generateRandom('a String, b FixedString(5), c LowCardinality(String), d LowCardinality(Nullable(String))', 4, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
