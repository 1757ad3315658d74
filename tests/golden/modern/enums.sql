SELECT * FROM generateRandom('a Enum8(\'a\' = -128, \'b\\\'q\' = 0, \'c\' = 127), b Enum16(\'x\' = -32768, \'y\' = 1)', 7, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
