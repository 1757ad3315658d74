SELECT toDate(number * 100), toDateTime(number * 1000000), CAST(number % 2 AS Enum8('a' = 0, 'b' = 1)), CAST(number % 2 AS Enum16('x' = 0, 'y' = 1)) FROM system.numbers LIMIT 300
