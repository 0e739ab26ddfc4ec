-- KEYS: the due set, the record key prefix. ARGV: per delivery its key, subscriber and
-- payload, then the time. Adds the deliveries not recorded yet; returns how many.
local added = 0
for i = 1, #ARGV - 1, 3 do
  local h = KEYS[2] .. ARGV[i]
  if redis.call('EXISTS', h) == 0 then
    redis.call('HSET', h, 'subscriber', ARGV[i + 1], 'payload', ARGV[i + 2],
               'state', 'pending', 'attempts', 0, 'created', ARGV[#ARGV])
    redis.call('ZADD', KEYS[1], ARGV[#ARGV], ARGV[i])
    added = added + 1
  end
end
return added
