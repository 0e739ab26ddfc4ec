-- KEYS: the term counts hash. ARGV[1]: JSON [[field, increment], ...], added in that order
-- (one argument: thousands of separate ones cost the client more than the decoding here).
for _, pair in ipairs(cjson.decode(ARGV[1])) do
  redis.call('HINCRBY', KEYS[1], pair[1], pair[2])
end
