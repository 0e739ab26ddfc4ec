-- KEYS: index keys. Returns, per key, its whole sorted set {id1, score1, ...}.
local reply = {}
for i, key in ipairs(KEYS) do
  reply[i] = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
end
return reply
