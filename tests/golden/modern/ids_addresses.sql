SELECT * FROM generateRandom('a UUID, b IPv4, c IPv6', 6, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
