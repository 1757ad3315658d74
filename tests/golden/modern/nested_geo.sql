SELECT * FROM generateRandom('a Nested(x UInt8, y String), b Point, c Ring, d Polygon, e MultiPolygon', 11, 10, 4) LIMIT 300 SETTINGS allow_suspicious_low_cardinality_types = 1
