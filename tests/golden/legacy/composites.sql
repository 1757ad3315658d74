SELECT if(number % 3 = 0, NULL, number), range(number % 5), [toString(number), ''], (number, toString(number)), toLowCardinality(toString(number % 7)) FROM system.numbers LIMIT 300
