SELECT * FROM generateRandom('a Float32, b Float64, c Bool', 2, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
