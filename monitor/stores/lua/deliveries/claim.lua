-- KEYS: the due set, the record key prefix. ARGV: now, lease end, limit, owner token prefix.
-- Returns {key, subscriber, payload, attempts, owner} per delivery claimed.
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, k in ipairs(keys) do
  local h = KEYS[2] .. k
  if redis.call('HGET', h, 'state') == 'pending' then
    local owner = ARGV[4] .. '-' .. i
    redis.call('ZADD', KEYS[1], ARGV[2], k)
    local attempts = redis.call('HINCRBY', h, 'attempts', 1)
    redis.call('HSET', h, 'owner', owner)
    local row = redis.call('HMGET', h, 'subscriber', 'payload')
    table.insert(out, {k, row[1], row[2], attempts, owner})
  else
    redis.call('ZREM', KEYS[1], k)
  end
end
return out
