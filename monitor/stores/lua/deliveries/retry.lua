-- KEYS: the due set, the delivery's record. ARGV: owner token, when due again, the error,
-- the delivery key. Returns 1, or 0 when the claim was lost.
if redis.call('HGET', KEYS[2], 'state') ~= 'pending' or redis.call('HGET', KEYS[2], 'owner') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[2], 'error', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
return 1
