-- KEYS: the term counts hash. ARGV: term, increment, term, increment, ... (one call).
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
