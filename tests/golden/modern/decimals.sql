SELECT * FROM generateRandom('a Decimal32(4), b Decimal64(9), c Decimal128(20), d Decimal256(40), e Decimal(12, 0)', 3, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
